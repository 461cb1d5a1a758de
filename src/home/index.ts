export { initHome, openHome, resolveHomeDir, homePaths, HomeError, type Home, type HomePaths, type InitResult } from './home.js';
export { readHomeConfig, type HomeConfig } from './config.js';
export { homeTrust, ownerRecordSigner } from './signer.js';
