import { createPrivateKey, createPublicKey, randomBytes, sign, verify, X509Certificate, type KeyObject } from "node:crypto";

/** One entry of a registry token's `access` claim. */
export interface Access { type: string; name: string; actions: string[] }

export interface TokenClaims {
  iss: string;
  sub: string;
  aud: string;
  exp: number;
  nbf: number;
  iat: number;
  jti: string;
  access: Access[];
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString("base64url");

function algFor(key: KeyObject): { alg: string; hash: string | null; p1363: boolean } {
  switch (key.asymmetricKeyType) {
    case "rsa": return { alg: "RS256", hash: "sha256", p1363: false };
    case "ec": {
      const curve = key.asymmetricKeyDetails?.namedCurve;
      if (curve === "prime256v1") return { alg: "ES256", hash: "sha256", p1363: true };
      if (curve === "secp384r1") return { alg: "ES384", hash: "sha384", p1363: true };
      throw new Error(`unsupported EC curve ${curve}`);
    }
    case "ed25519": return { alg: "EdDSA", hash: null, p1363: false };
    default: throw new Error(`unsupported key type ${key.asymmetricKeyType}`);
  }
}

/** A public key from PEM: a certificate (as the CNCF registry's rootcertbundle) or a bare public key. */
export function publicKeyFromPem(pem: string): KeyObject {
  if (pem.includes("BEGIN CERTIFICATE")) return new X509Certificate(pem).publicKey;
  if (pem.includes("PRIVATE KEY")) return createPublicKey(createPrivateKey(pem));
  return createPublicKey(pem);
}

/** Sign registry token claims (for a token server; tests use it too). */
export function signToken(claims: Omit<TokenClaims, "jti" | "iat" | "nbf" | "exp"> & { ttlSeconds?: number }, privateKeyPem: string): string {
  const key = createPrivateKey(privateKeyPem);
  const { alg, hash, p1363 } = algFor(key);
  const now = Math.floor(Date.now() / 1000);
  const { ttlSeconds, ...rest } = claims;
  const body: TokenClaims = { ...rest, iat: now, nbf: now - 10, exp: now + (ttlSeconds ?? 300), jti: randomBytes(12).toString("hex") };
  const input = `${b64url(JSON.stringify({ alg, typ: "JWT" }))}.${b64url(JSON.stringify(body))}`;
  const sig = sign(hash, Buffer.from(input), p1363 ? { key, dsaEncoding: "ieee-p1363" } : key);
  return `${input}.${b64url(sig)}`;
}

/** Verify signature, time window, issuer and audience. Returns the claims or throws with the reason. */
export function verifyToken(token: string, key: KeyObject, opts: { issuer?: string; service?: string }): TokenClaims {
  const parts = token.split(".");
  if (parts.length !== 3) throw new Error("malformed token");
  const header = JSON.parse(Buffer.from(parts[0]!, "base64url").toString("utf8")) as { alg?: string };
  const { alg, hash, p1363 } = algFor(key);
  if (header.alg !== alg) throw new Error(`token algorithm ${header.alg} does not match the key (${alg})`);
  const ok = verify(hash, Buffer.from(`${parts[0]}.${parts[1]}`), p1363 ? { key, dsaEncoding: "ieee-p1363" } : key,
    Buffer.from(parts[2]!, "base64url"));
  if (!ok) throw new Error("invalid token signature");
  const c = JSON.parse(Buffer.from(parts[1]!, "base64url").toString("utf8")) as TokenClaims;
  const now = Math.floor(Date.now() / 1000);
  if (typeof c.exp === "number" && now > c.exp + 60) throw new Error("token expired");
  if (typeof c.nbf === "number" && now < c.nbf - 60) throw new Error("token not yet valid");
  if (opts.issuer && c.iss !== opts.issuer) throw new Error("token issuer mismatch");
  if (opts.service) {
    const aud = Array.isArray(c.aud) ? c.aud as string[] : [c.aud];
    if (!aud.includes(opts.service)) throw new Error("token audience mismatch");
  }
  if (!Array.isArray(c.access)) c.access = [];
  return c;
}
