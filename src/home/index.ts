export { initHome, openHome, resolveHomeDir, homePaths, HomeError, type Home, type HomePaths, type InitResult } from './home.js';
