export {
  initHome, openHome, resolveHomeDir, homePaths, homeKeysEncrypted, readHomeKey, encryptHomeKeys, HomeError,
  type Home, type HomePaths, type InitResult, type InitOptions, type OpenHomeOptions, type HomeErrorCode,
} from './home.js';
export { makeHomePrivate, makePrivate, PRIVATE_DIR, PRIVATE_FILE } from './private-files.js';
