// Build-time settings, filled in by `define` in vite.config.js (see VITE_REPO_URL there).
export const REPO_URL = typeof __REPO_URL__ === 'string' ? __REPO_URL__ : ''
export const NOTEBOOKS_URL = typeof __NOTEBOOKS_URL__ === 'string' ? __NOTEBOOKS_URL__ : ''
