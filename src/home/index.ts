export { initHome, openHome, openHomeLedger, DATABASE_ENV, resolveHomeDir, homePaths, HomeError, type Home, type HomePaths, type InitResult } from './home.js';
