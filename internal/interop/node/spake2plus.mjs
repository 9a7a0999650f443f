// RFC 9383 SPAKE2+ (P256-SHA256-HKDF-HMAC-SHA256) computed from its
// formulas on @noble/curves' P-256 and Node's crypto, independently of
// Latch's Go code, plus Latch's pairing derivations on top of it (the
// context, the session keys, the done MAC). Used by pairing/interop_test.go.
//
// stdin: {"cases": [{pbkdf, context | {hello, params, ct}, idProver,
//          idVerifier, x, y, ss?, frames?}]} in hex.
// stdout: {"results": [{w0, w1, L, X, Y, Zp, Vp, Zv, Vv, TT, K_main,
//          K_confirmP, K_confirmV, confirmP, confirmV, K_shared,
//          e2e?, payloadKey?, doneKey?, done?}]} in hex.
import { p256 } from '@noble/curves/nist.js';
import { createHash, createHmac, hkdfSync } from 'node:crypto';

const Point = p256.Point;
const n = Point.CURVE().n;
const M = Point.fromHex('02886e2f97ace46e55ba9dd7242579f2993b64e16ef3dcab95afd497333d8fa12f');
const N = Point.fromHex('03d8bbd6c639c62937b04d997f38c3770719c629d7014d49a24b4f98baa1292b49');
const label = Buffer.from('latch-pairing/v1');

const hex = (b) => Buffer.from(b).toString('hex');
const unhex = (s) => Buffer.from(s, 'hex');
const big = (b) => BigInt('0x' + (hex(b) || '0'));
const scalar = (v) => unhex(v.toString(16).padStart(64, '0'));
const enc = (P) => Buffer.from(P.toBytes(false));
const sha256 = (...parts) => { const h = createHash('sha256'); for (const p of parts) h.update(p); return h.digest(); };
const hmac = (k, m) => createHmac('sha256', k).update(m).digest();
const hkdf = (ikm, salt, info, len) => Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from(info), len));
const lv = (b) => { const l = Buffer.alloc(8); l.writeBigUInt64LE(BigInt(b.length)); return Buffer.concat([l, b]); };

function run(c) {
  // RFC 9383 section 3.2: w0s || w1s, each 40 bytes, reduced mod n.
  const out = unhex(c.pbkdf);
  const w0 = big(out.subarray(0, 40)) % n;
  const w1 = big(out.subarray(40, 80)) % n;
  const x = big(unhex(c.x)), y = big(unhex(c.y));
  const L = Point.BASE.multiply(w1);
  // Section 3.3.
  const X = Point.BASE.multiply(x).add(M.multiply(w0));
  const Y = Point.BASE.multiply(y).add(N.multiply(w0));
  // Prover: Z = h*x*(Y - w0*N), V = h*w1*(Y - w0*N); h = 1.
  const Yu = Y.subtract(N.multiply(w0));
  const Zp = Yu.multiply(x), Vp = Yu.multiply(w1);
  // Verifier: Z = h*y*(X - w0*M), V = h*y*L.
  const Zv = X.subtract(M.multiply(w0)).multiply(y), Vv = L.multiply(y);
  const context = c.context !== undefined
    ? unhex(c.context)
    : Buffer.concat([label, sha256(unhex(c.hello), unhex(c.params), unhex(c.ct))]);
  const TT = Buffer.concat([
    lv(context), lv(unhex(c.idProver)), lv(unhex(c.idVerifier)),
    lv(enc(M)), lv(enc(N)), lv(enc(X)), lv(enc(Y)), lv(enc(Zv)), lv(enc(Vv)), lv(scalar(w0)),
  ]);
  // Section 3.4.
  const Kmain = sha256(TT);
  const conf = hkdf(Kmain, Buffer.alloc(0), 'ConfirmationKeys', 64);
  const KconfirmP = conf.subarray(0, 32), KconfirmV = conf.subarray(32);
  const Kshared = hkdf(Kmain, Buffer.alloc(0), 'SharedKey', 32);
  const r = {
    w0: hex(scalar(w0)), w1: hex(scalar(w1)), L: hex(enc(L)), X: hex(enc(X)), Y: hex(enc(Y)),
    Zp: hex(enc(Zp)), Vp: hex(enc(Vp)), Zv: hex(enc(Zv)), Vv: hex(enc(Vv)), TT: hex(TT),
    K_main: hex(Kmain), K_confirmP: hex(KconfirmP), K_confirmV: hex(KconfirmV),
    confirmP: hex(hmac(KconfirmP, enc(Y))), confirmV: hex(hmac(KconfirmV, enc(X))), K_shared: hex(Kshared),
  };
  if (c.ss !== undefined) {
    // Latch's session keys: HKDF(K_shared || ss, SHA-256(frames 1..5), "latch-pairing/v1 keys", 96).
    const th = sha256(...c.frames.map(unhex));
    const keys = hkdf(Buffer.concat([Kshared, unhex(c.ss)]), th, 'latch-pairing/v1 keys', 96);
    r.e2e = hex(keys.subarray(0, 32));
    r.payloadKey = hex(keys.subarray(32, 64));
    r.doneKey = hex(keys.subarray(64));
    r.done = hex(hmac(keys.subarray(64), Buffer.from('latch-pairing/v1 done')));
  }
  return r;
}

let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (d) => { input += d; });
process.stdin.on('end', () => {
  const { cases } = JSON.parse(input);
  process.stdout.write(JSON.stringify({ results: cases.map(run) }));
});
