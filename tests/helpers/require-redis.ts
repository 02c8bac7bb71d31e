// Global setup of the embedded engine's project: Redis must answer (no ClickHouse server is used).
export { requireRedis as default } from './require-services.js';
