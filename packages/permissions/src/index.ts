// Roles, the permission matrix and workflow transitions: pure data and functions, shared by server and app.
export * from './roles.js';
export * from './matrix.js';
export * from './transitions.js';
