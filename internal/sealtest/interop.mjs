// An implementation of sealedbox/FORMAT.md and sealedbox/e2e/FORMAT.md in
// JavaScript, written from the format descriptions, on @hpke/core,
// @hpke/hybridkem-x-wing and @hpke/chacha20poly1305 (HPKE),
// @noble/post-quantum (ML-DSA-65) and Node's crypto (SHA-256, X25519 public
// keys, Ed25519, ChaCha20-Poly1305 under an HChaCha20 subkey for
// XChaCha20-Poly1305).
//
// It reads a JSON array of operations on standard input and writes a JSON
// array of results: {"ok": true, ...} or {"ok": false, "error": "..."}.
import { createHash, createPrivateKey, createPublicKey, createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { CipherSuite, DhkemX25519HkdfSha256, HkdfSha256 } from "@hpke/core";
import { XWing } from "@hpke/hybridkem-x-wing";
import { Chacha20Poly1305 } from "@hpke/chacha20poly1305";
import { ml_dsa65 } from "@noble/post-quantum/ml-dsa.js";
import { sign as edSign, verify as edVerify } from "node:crypto";

// Fresh copies: a Uint8Array with its own ArrayBuffer of exactly its length.
// Node Buffers may be views into a shared pool, and some @hpke code reads
// .buffer whole.
const fresh = (b) => Uint8Array.from(b);
const fromHex = (s) => fresh(Buffer.from(s, "hex"));
const toHex = (b) => Buffer.from(b).toString("hex");
const concat = (...parts) => fresh(Buffer.concat(parts.map((p) => Buffer.from(p))));
const equal = (a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;
const sha256 = (...parts) => fresh(createHash("sha256").update(concat(...parts)).digest());
const ascii = (s) => fresh(Buffer.from(s, "latin1"));

// FORMAT.md: suites, by name and by their 6-byte id.
const SUITES = {
  mlkem768x25519: { id: fromHex("647a00010003"), pubSize: 1216, encSize: 1120, kem: () => new XWing() },
  x25519: { id: fromHex("002000010003"), pubSize: 32, encSize: 32, kem: () => new DhkemX25519HkdfSha256() },
};
const suiteByID = (id) => Object.entries(SUITES).find(([, s]) => equal(s.id, id));
const hpkeSuite = (s) => new CipherSuite({ kem: s.kem(), kdf: new HkdfSha256(), aead: new Chacha20Poly1305() });

// Keys: binary = magic(3) ‖ version ‖ suite id ‖ key bytes.
// Text = prefix ‖ base64url(binary ‖ SHA-256(prefix ‖ binary)[0:4]).
const MAGIC = { public: ascii("LSP"), private: ascii("LSS") };
function keyText(kind, name, raw) {
  const bin = concat(MAGIC[kind], [1], SUITES[name].id, raw);
  const prefix = `latch_${kind === "public" ? "pk" : "sk"}_${name}_`;
  const sum = sha256(ascii(prefix), bin).subarray(0, 4);
  return prefix + Buffer.from(concat(bin, sum)).toString("base64url");
}
function parseKeyText(kind, text) {
  const m = /^latch_(pk|sk)_([a-z0-9]+)_([A-Za-z0-9_-]+)$/.exec(text);
  if (!m || m[1] !== (kind === "public" ? "pk" : "sk")) throw new Error(`not a ${kind} key`);
  const name = m[2];
  const suite = SUITES[name];
  if (!suite) throw new Error("unknown suite");
  const payload = fresh(Buffer.from(m[3], "base64url"));
  if (Buffer.from(payload).toString("base64url") !== m[3]) throw new Error("not canonical base64url");
  const bin = payload.subarray(0, payload.length - 4);
  const prefix = text.slice(0, text.length - m[3].length);
  if (!equal(sha256(ascii(prefix), bin).subarray(0, 4), payload.subarray(payload.length - 4))) throw new Error("bad checksum");
  if (!equal(bin.subarray(0, 3), MAGIC[kind]) || bin[3] !== 1 || !equal(bin.subarray(4, 10), suite.id)) throw new Error("bad header");
  const raw = fresh(bin.subarray(10));
  if (raw.length !== (kind === "public" ? suite.pubSize : 32)) throw new Error("bad key length");
  return { name, suite, raw, bin: fresh(bin) };
}
const keyID = (name, pubRaw) => sha256(MAGIC.public, [1], SUITES[name].id, pubRaw);

// The public key bytes of a private key.
async function publicOf(name, skRaw) {
  if (name === "mlkem768x25519") {
    const kem = new XWing();
    const kp = await kem.generateKeyPairDerand(fresh(skRaw));
    return fresh(new Uint8Array(await kem.serializePublicKey(kp.publicKey)));
  }
  // PKCS #8 of an X25519 private key (RFC 8410) is a fixed prefix and the scalar.
  const der = Buffer.concat([Buffer.from("302e020100300506032b656e04220420", "hex"), Buffer.from(skRaw)]);
  const pub = createPublicKey(createPrivateKey({ key: der, format: "der", type: "pkcs8" })).export({ format: "jwk" });
  return fresh(Buffer.from(pub.x, "base64url"));
}

async function importPrivate(s, skRaw) {
  return s.kem().importKey("raw", fresh(skRaw), false);
}

async function keygen(name) {
  let skRaw;
  if (name === "mlkem768x25519") {
    skRaw = fresh(randomBytes(32)); // the X-Wing seed
  } else {
    const kem = new DhkemX25519HkdfSha256();
    const kp = await kem.generateKeyPair();
    skRaw = fresh(new Uint8Array(await kem.serializePrivateKey(kp.privateKey)));
  }
  const pubRaw = await publicOf(name, skRaw);
  return { privateKey: keyText("private", name, skRaw), publicKey: keyText("public", name, pubRaw), keyID: toHex(keyID(name, pubRaw)) };
}

// Envelope: "LSE" ‖ 0x01 ‖ suite id ‖ key id ‖ enc ‖ ct; info = label ‖ header;
// AAD = context.
const LABEL = ascii("latch sealedbox envelope");
async function seal(publicKey, plaintext, context, magic = "LSE", label = LABEL) {
  const pub = parseKeyText("public", publicKey);
  const header = concat(ascii(magic), [1], pub.suite.id, keyID(pub.name, pub.raw));
  const suite = hpkeSuite(pub.suite);
  const pk = await suite.kem.importKey("raw", fresh(pub.raw), true);
  const sender = await suite.createSenderContext({ recipientPublicKey: pk, info: concat(label, header) });
  const ct = await sender.seal(fresh(plaintext), fresh(context));
  return concat(header, new Uint8Array(sender.enc), new Uint8Array(ct));
}
async function open(privateKey, envelope, context, magic = "LSE", label = LABEL) {
  const sk = parseKeyText("private", privateKey);
  if (envelope.length < 42 || !equal(envelope.subarray(0, 3), ascii(magic))) throw new Error("not an envelope of this kind");
  if (envelope[3] !== 1) throw new Error("unknown version");
  const found = suiteByID(envelope.subarray(4, 10));
  if (!found || found[0] !== sk.name) throw new Error("wrong suite");
  const pubRaw = await publicOf(sk.name, sk.raw);
  if (!equal(envelope.subarray(10, 42), keyID(sk.name, pubRaw))) throw new Error("wrong key");
  const header = envelope.subarray(0, 42);
  const enc = envelope.subarray(42, 42 + sk.suite.encSize);
  const ct = envelope.subarray(42 + sk.suite.encSize);
  const suite = hpkeSuite(sk.suite);
  const recipient = await suite.createRecipientContext({
    recipientKey: await importPrivate(sk.suite, sk.raw), enc: fresh(enc), info: concat(label, header),
  });
  return new Uint8Array(await recipient.open(fresh(ct), fresh(context)));
}

// XChaCha20-Poly1305 (draft-irtf-cfrg-xchacha): HChaCha20 subkey, then
// ChaCha20-Poly1305 with nonce 0^4 ‖ nonce[16:24].
function hchacha20(key, nonce16) {
  const k = new Uint32Array(fresh(key).buffer), n = new Uint32Array(fresh(nonce16).buffer);
  const s = new Uint32Array([0x61707865, 0x3320646e, 0x79622d32, 0x6b206574, ...k, ...n]);
  const rotl = (v, c) => (v << c) | (v >>> (32 - c));
  const qr = (a, b, c, d) => {
    s[a] += s[b]; s[d] = rotl(s[d] ^ s[a], 16);
    s[c] += s[d]; s[b] = rotl(s[b] ^ s[c], 12);
    s[a] += s[b]; s[d] = rotl(s[d] ^ s[a], 8);
    s[c] += s[d]; s[b] = rotl(s[b] ^ s[c], 7);
  };
  for (let i = 0; i < 10; i++) {
    qr(0, 4, 8, 12); qr(1, 5, 9, 13); qr(2, 6, 10, 14); qr(3, 7, 11, 15);
    qr(0, 5, 10, 15); qr(1, 6, 11, 12); qr(2, 7, 8, 13); qr(3, 4, 9, 14);
  }
  return fresh(new Uint8Array(new Uint32Array([s[0], s[1], s[2], s[3], s[12], s[13], s[14], s[15]]).buffer));
}
function xSeal(key, nonce, plaintext, ad) {
  const c = createCipheriv("chacha20-poly1305", hchacha20(key, nonce.subarray(0, 16)), concat([0, 0, 0, 0], nonce.subarray(16)), { authTagLength: 16 });
  c.setAAD(ad, { plaintextLength: plaintext.length });
  return concat(c.update(plaintext), c.final(), c.getAuthTag());
}
function xOpen(key, nonce, ciphertext, ad) {
  if (ciphertext.length < 16) throw new Error("short");
  const d = createDecipheriv("chacha20-poly1305", hchacha20(key, nonce.subarray(0, 16)), concat([0, 0, 0, 0], nonce.subarray(16)), { authTagLength: 16 });
  d.setAAD(ad, { plaintextLength: ciphertext.length - 16 });
  d.setAuthTag(ciphertext.subarray(ciphertext.length - 16));
  return concat(d.update(ciphertext.subarray(0, ciphertext.length - 16)), d.final());
}

// Wrapped key: "LSW" ‖ 0x01 ‖ suite id ‖ key id ‖ nonce(24) ‖ XChaCha20-Poly1305(sk), AD = header.
async function wrap(e2eKey, privateKey) {
  const sk = parseKeyText("private", privateKey);
  const header = concat(ascii("LSW"), [1], sk.suite.id, keyID(sk.name, await publicOf(sk.name, sk.raw)));
  const nonce = fresh(randomBytes(24));
  return concat(header, nonce, xSeal(e2eKey, nonce, sk.raw, header));
}
async function unwrap(e2eKey, wrapped, publicKey) {
  const pub = parseKeyText("public", publicKey);
  if (wrapped.length !== 114 || !equal(wrapped.subarray(0, 4), concat(ascii("LSW"), [1]))) throw new Error("not a wrapped key");
  if (!equal(wrapped.subarray(4, 10), pub.suite.id) || !equal(wrapped.subarray(10, 42), keyID(pub.name, pub.raw))) throw new Error("key mismatch");
  const raw = xOpen(e2eKey, wrapped.subarray(42, 66), wrapped.subarray(66), wrapped.subarray(0, 42));
  if (!equal(await publicOf(pub.name, raw), pub.raw)) throw new Error("key mismatch");
  return keyText("private", pub.name, raw);
}

// Text forms of the end-to-end key and of a wrapped key:
// "latch_e2e_" ‖ base64url("LSX" ‖ 0x01 ‖ K ‖ checksum) and
// "latch_wk_" ‖ suite name ‖ "_" ‖ base64url(wrapped ‖ checksum), with
// checksum = SHA-256(prefix ‖ binary)[0:4].
function textOf(prefix, bin) {
  return prefix + Buffer.from(concat(bin, sha256(ascii(prefix), bin).subarray(0, 4))).toString("base64url");
}
function binaryOf(prefix, text) {
  if (!text.startsWith(prefix)) throw new Error("wrong prefix");
  const b64 = text.slice(prefix.length);
  if (!/^[A-Za-z0-9_-]+$/.test(b64)) throw new Error("not base64url");
  const payload = fresh(Buffer.from(b64, "base64url"));
  if (Buffer.from(payload).toString("base64url") !== b64) throw new Error("not canonical base64url");
  if (payload.length < 4) throw new Error("too short");
  const bin = payload.subarray(0, payload.length - 4);
  if (!equal(sha256(ascii(prefix), bin).subarray(0, 4), payload.subarray(payload.length - 4))) throw new Error("bad checksum");
  return fresh(bin);
}
const e2eText = (k) => textOf("latch_e2e_", concat(ascii("LSX"), [1], k));
function parseE2EText(text) {
  const bin = binaryOf("latch_e2e_", text);
  if (bin.length !== 36 || !equal(bin.subarray(0, 4), concat(ascii("LSX"), [1]))) throw new Error("not an end-to-end key");
  return fresh(bin.subarray(4));
}
function wrappedText(wrapped) {
  const s = suiteByID(wrapped.subarray(4, 10));
  if (!s || wrapped.length !== 114 || !equal(wrapped.subarray(0, 4), concat(ascii("LSW"), [1]))) throw new Error("not a wrapped key");
  return textOf(`latch_wk_${s[0]}_`, wrapped);
}
function parseWrappedText(text) {
  const m = /^latch_wk_([a-z0-9]+)_/.exec(text);
  if (!m || !SUITES[m[1]]) throw new Error("not a wrapped key of a known suite");
  const bin = binaryOf(m[0], text);
  if (bin.length !== 114 || !equal(bin.subarray(0, 4), concat(ascii("LSW"), [1])) || !equal(bin.subarray(4, 10), SUITES[m[1]].id)) throw new Error("not a wrapped key");
  return bin;
}

// Message: "LSM" ‖ 0x01 ‖ seq (8, BE) ‖ nonce(24) ‖ XChaCha20-Poly1305, AD = header(12) ‖ context.
function sealMessage(e2eKey, seq, plaintext, context) {
  const header = Buffer.alloc(12);
  header.write("LSM", 0, "latin1");
  header[3] = 1;
  header.writeBigUInt64BE(BigInt(seq), 4);
  const nonce = fresh(randomBytes(24));
  return concat(header, nonce, xSeal(e2eKey, nonce, plaintext, concat(header, context)));
}
function openMessage(e2eKey, message, context, highest) {
  if (message.length < 52 || !equal(message.subarray(0, 4), concat(ascii("LSM"), [1]))) throw new Error("not a message");
  const header = message.subarray(0, 12);
  const pt = xOpen(e2eKey, message.subarray(12, 36), message.subarray(36), concat(header, context));
  const seq = Buffer.from(header).readBigUInt64BE(4);
  if (seq <= BigInt(highest)) throw new Error("replay");
  return { plaintext: toHex(pt), seq: seq.toString() };
}

// Signing keys: binary = magic(3) ‖ version ‖ scheme id (2) ‖ key bytes; text
// prefixes latch_vk_ and latch_sigk_. mldsa65ed25519 keys are ML-DSA-65 then
// Ed25519, and so are its signatures.
const SCHEMES = {
  mldsa65ed25519: { id: fromHex("0001"), seedSize: 64, pubSize: 1984, sigSize: 3373 },
  ed25519: { id: fromHex("0002"), seedSize: 32, pubSize: 32, sigSize: 64 },
};
const SIGN_MAGIC = { verifying: ascii("LSV"), signing: ascii("LSK") };
const SIGN_TAG = { verifying: "vk", signing: "sigk" };
function signKeyText(kind, name, raw) {
  const bin = concat(SIGN_MAGIC[kind], [1], SCHEMES[name].id, raw);
  const prefix = `latch_${SIGN_TAG[kind]}_${name}_`;
  return prefix + Buffer.from(concat(bin, sha256(ascii(prefix), bin).subarray(0, 4))).toString("base64url");
}
function parseSignKeyText(kind, text) {
  const m = /^latch_(vk|sigk)_([a-z0-9]+)_([A-Za-z0-9_-]+)$/.exec(text);
  if (!m || m[1] !== SIGN_TAG[kind]) throw new Error(`not a ${kind} key`);
  const scheme = SCHEMES[m[2]];
  if (!scheme) throw new Error("unknown scheme");
  const payload = fresh(Buffer.from(m[3], "base64url"));
  if (Buffer.from(payload).toString("base64url") !== m[3]) throw new Error("not canonical base64url");
  const bin = payload.subarray(0, payload.length - 4);
  const prefix = text.slice(0, text.length - m[3].length);
  if (!equal(sha256(ascii(prefix), bin).subarray(0, 4), payload.subarray(payload.length - 4))) throw new Error("bad checksum");
  if (!equal(bin.subarray(0, 3), SIGN_MAGIC[kind]) || bin[3] !== 1 || !equal(bin.subarray(4, 6), scheme.id)) throw new Error("bad header");
  const raw = fresh(bin.subarray(6));
  if (raw.length !== (kind === "verifying" ? scheme.pubSize : scheme.seedSize)) throw new Error("bad key length");
  return { name: m[2], scheme, raw, keyID: kind === "verifying" ? sha256(bin) : null };
}
// Ed25519 from Node's crypto: PKCS #8 and SPKI are fixed prefixes and the key (RFC 8410).
const edPrivate = (seed) => createPrivateKey({ key: Buffer.concat([Buffer.from("302e020100300506032b657004220420", "hex"), Buffer.from(seed)]), format: "der", type: "pkcs8" });
const edPublicRaw = (seed) => fresh(Buffer.from(createPublicKey(edPrivate(seed)).export({ format: "jwk" }).x, "base64url"));
const edPublic = (raw) => createPublicKey({ key: Buffer.concat([Buffer.from("302a300506032b6570032100", "hex"), Buffer.from(raw)]), format: "der", type: "spki" });
// The verifying key bytes of a signing key's seed.
function verifyingRaw(name, seed) {
  if (name === "ed25519") return edPublicRaw(seed);
  return concat(ml_dsa65.keygen(fresh(seed.subarray(0, 32))).publicKey, edPublicRaw(seed.subarray(32)));
}
function signKeygen(name) {
  const seed = fresh(randomBytes(SCHEMES[name].seedSize));
  const pub = verifyingRaw(name, seed);
  const vk = signKeyText("verifying", name, pub);
  return { signingKey: signKeyText("signing", name, seed), verifyingKey: vk, keyID: toHex(parseSignKeyText("verifying", vk).keyID) };
}
function signRaw(name, seed, msg) {
  const ed = fresh(edSign(null, Buffer.from(msg), edPrivate(name === "ed25519" ? seed : seed.subarray(32))));
  if (name === "ed25519") return ed;
  // Pure ML-DSA-65 with an empty context string (FIPS 204 Algorithm 2), hedged.
  return concat(ml_dsa65.sign(fresh(msg), ml_dsa65.keygen(fresh(seed.subarray(0, 32))).secretKey), ed);
}
function verifyRaw(name, pub, msg, sig) {
  const s = SCHEMES[name];
  if (sig.length !== s.sigSize) return false;
  const edOK = edVerify(null, Buffer.from(msg), edPublic(pub.subarray(pub.length - 32)), Buffer.from(sig.subarray(sig.length - 64)));
  if (name === "ed25519") return edOK;
  return ml_dsa65.verify(fresh(sig.subarray(0, 3309)), fresh(msg), fresh(pub.subarray(0, 1952))) && edOK;
}
// Signed envelope: payload = scheme id ‖ signer key id ‖ sig ‖ plaintext, sealed
// with magic "LSN" and its label; sig over label ‖ scheme id ‖ signer key id ‖
// recipient key id ‖ len(context) (8) ‖ context ‖ plaintext.
const SIGNED_LABEL = ascii("latch sealedbox signed envelope");
function signedMessage(schemeID, signerID, recipientID, context, plaintext) {
  const n = Buffer.alloc(8);
  n.writeBigUInt64BE(BigInt(context.length));
  return concat(ascii("latch sealedbox signature v1"), schemeID, signerID, recipientID, n, context, plaintext);
}
async function sealSigned(publicKey, signingKey, plaintext, context) {
  const pub = parseKeyText("public", publicKey);
  const sk = parseSignKeyText("signing", signingKey);
  const signerID = sha256(SIGN_MAGIC.verifying, [1], sk.scheme.id, verifyingRaw(sk.name, sk.raw));
  const sig = signRaw(sk.name, sk.raw, signedMessage(sk.scheme.id, signerID, keyID(pub.name, pub.raw), context, plaintext));
  return seal(publicKey, concat(sk.scheme.id, signerID, sig, plaintext), context, "LSN", SIGNED_LABEL);
}
async function openSigned(privateKey, verifyingKeys, envelope, context) {
  const payload = await open(privateKey, envelope, context, "LSN", SIGNED_LABEL);
  const sk = parseKeyText("private", privateKey);
  const recipientID = keyID(sk.name, await publicOf(sk.name, sk.raw));
  if (payload.length < 34) throw new Error("short payload");
  const found = Object.entries(SCHEMES).find(([, s]) => equal(s.id, payload.subarray(0, 2)));
  if (!found) throw new Error("unknown scheme");
  const [name, scheme] = found;
  if (payload.length < 34 + scheme.sigSize) throw new Error("short payload");
  const signerID = payload.subarray(2, 34);
  const vk = verifyingKeys.map((t) => parseSignKeyText("verifying", t)).find((k) => k.name === name && equal(k.keyID, signerID));
  if (!vk) throw new Error("unknown signer");
  const sig = payload.subarray(34, 34 + scheme.sigSize), plaintext = payload.subarray(34 + scheme.sigSize);
  if (!verifyRaw(name, vk.raw, signedMessage(scheme.id, signerID, recipientID, context, plaintext), sig)) throw new Error("bad signature");
  return { plaintext: toHex(plaintext), signer: toHex(signerID) };
}

async function run(op) {
  switch (op.op) {
    case "keygen":
      return keygen(op.suite);
    case "seal":
      return { envelope: toHex(await seal(op.publicKey, fromHex(op.plaintext), fromHex(op.context))) };
    case "open":
      return { plaintext: toHex(await open(op.privateKey, fromHex(op.envelope), fromHex(op.context))) };
    case "wrap":
      return { wrapped: toHex(await wrap(fromHex(op.e2eKey), op.privateKey)) };
    case "unwrap":
      return { privateKey: await unwrap(fromHex(op.e2eKey), fromHex(op.wrapped), op.publicKey) };
    case "e2eText":
      return { text: e2eText(fromHex(op.e2eKey)) };
    case "parseE2EText":
      return { e2eKey: toHex(parseE2EText(op.text)) };
    case "wrappedText":
      return { text: wrappedText(fromHex(op.wrapped)) };
    case "parseWrappedText":
      return { wrapped: toHex(parseWrappedText(op.text)) };
    case "sealMessage":
      return { message: toHex(sealMessage(fromHex(op.e2eKey), op.seq, fromHex(op.plaintext), fromHex(op.context))) };
    case "openMessage":
      return openMessage(fromHex(op.e2eKey), fromHex(op.message), fromHex(op.context), op.highest);
    case "signKeygen":
      return signKeygen(op.scheme);
    case "sealSigned":
      return { envelope: toHex(await sealSigned(op.publicKey, op.signingKey, fromHex(op.plaintext), fromHex(op.context))) };
    case "openSigned":
      return openSigned(op.privateKey, op.verifyingKeys, fromHex(op.envelope), fromHex(op.context));
    case "mldsaKeygen": {
      const k = ml_dsa65.keygen(fromHex(op.seed));
      return { publicKey: toHex(k.publicKey) };
    }
    case "mldsaSign": {
      const opts = op.context === undefined ? undefined : { context: fromHex(op.context) };
      return { signature: toHex(ml_dsa65.sign(fromHex(op.message), ml_dsa65.keygen(fromHex(op.seed)).secretKey, opts)) };
    }
    case "mldsaVerify": {
      const opts = op.context === undefined ? undefined : { context: fromHex(op.context) };
      return { valid: ml_dsa65.verify(fromHex(op.signature), fromHex(op.message), fromHex(op.publicKey), opts) };
    }
    default:
      throw new Error(`unknown op ${op.op}`);
  }
}

const chunks = [];
for await (const c of process.stdin) chunks.push(c);
const results = [];
for (const op of JSON.parse(Buffer.concat(chunks).toString("utf8"))) {
  try {
    results.push({ ok: true, ...(await run(op)) });
  } catch (e) {
    results.push({ ok: false, error: String(e && e.message ? e.message : e) });
  }
}
process.stdout.write(JSON.stringify(results));
