// Package pairing is the onboarding key exchange between an app and a
// device (work in progress; the manual follows).
package pairing
