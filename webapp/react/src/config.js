// Build-time settings, filled in by `define` in vite.config.js (see VITE_REPO_URL there).
export const REPO_URL = typeof __REPO_URL__ === 'string' ? __REPO_URL__ : ''
export const NOTEBOOKS_URL = typeof __NOTEBOOKS_URL__ === 'string' ? __NOTEBOOKS_URL__ : ''

// The model was trained on IMDb reviews, which are long; short snippets give shakier answers.
export const ADVISED_LENGTH = 200
