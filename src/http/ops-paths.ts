/**
 * Where the ops app mounts its routers: here, in a module of their own, so that the app can name
 * them without loading the routers (which it loads with their first request).
 */
export const API_PATH = '/api/v1';
export const QUEUE_BOARD_PATH = '/admin/queues';
