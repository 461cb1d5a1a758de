export {
  initHome, openHome, openHomeLedger, homeDatabaseUrl, DATABASE_ENV, resolveHomeDir, homePaths, homeKeysEncrypted, readHomeKey, encryptHomeKeys, HomeError,
  type Home, type HomePaths, type InitResult, type InitOptions, type OpenHomeOptions, type HomeErrorCode,
} from './home.js';
export { makeHomePrivate, makePrivate, PRIVATE_DIR, PRIVATE_FILE } from './private-files.js';
export { addServiceKey, readHomeConfig, type HomeConfig } from './config.js';
export { homeTrust, ownerRecordSigner } from './signer.js';
