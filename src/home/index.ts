export { initHome, openHome, resolveHomeDir, homePaths, HomeError, type Home, type HomePaths, type InitResult } from './home.js';
export { homeTrust, readHomeConfig, type HomeConfig } from './config.js';
