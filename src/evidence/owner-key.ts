// The owner's key parsers live in src/records (records are signed with it).
export { dsseKeyId, parseSignerKey, parseVerifierKey, type OwnerSigningKey, type OwnerVerifyingKey } from '../records/keys.js';
