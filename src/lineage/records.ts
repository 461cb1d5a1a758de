// The lineage entry schemas live in src/records; lineage builds and reads them from there.
export * from '../records/lineage-schemas.js';
