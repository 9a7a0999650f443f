package mochi

import "errors"

// Every error of the package is one of these categories, matched with
// errors.Is (see internal/reason); the message adds what was wrong.

// ErrOptions is returned by Init (and so by mqtt.Server.AddHook) for
// missing or wrong options: config that is not a *[Options], or one
// without a Guard (with Tokens) or a Server.
var ErrOptions = errors.New("mqttauth/mochi: invalid hook options")

// ErrOtherAuthHook is returned by Init (and so by mqtt.Server.AddHook) when
// the server already has another hook that authenticates clients or checks
// ACLs, and by [Hook.Err] when one was added after this hook: mochi lets
// the first hook that allows win, so such a hook would widen what the
// guard allows. The error names the other hook's ID.
var ErrOtherAuthHook = errors.New("mqttauth/mochi: the server has another hook that provides OnConnectAuthenticate or OnACLCheck")

// ErrUnsupportedServer is returned by Init when the hook cannot list the
// server's other hooks, which it needs to refuse to run beside another
// auth hook: the mochi-mqtt version is not one this package supports.
var ErrUnsupportedServer = errors.New("mqttauth/mochi: cannot list the mochi server's hooks (unsupported mochi-mqtt version)")
