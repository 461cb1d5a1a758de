// Ed25519 lives in src/records (records are signed); evidence uses the same helpers.
export { ed25519PublicKey, ed25519Sign, ed25519Verify } from '../records/ed25519.js';
