import { readFileSync } from 'node:fs'
import react from '@vitejs/plugin-react'
import { defineConfig, loadEnv } from 'vite'

// The Flask app (scripts/serve.sh, or the Procfile command) listens here during development.
const API_TARGET = 'http://127.0.0.1:8000'

// package.json's "repository" is the default for the header's links; VITE_REPO_URL (from the
// environment or a .env file) overrides it at build time, e.g. for a fork.
function repositoryUrl(pkg) {
  const repo = typeof pkg.repository === 'string' ? pkg.repository : pkg.repository?.url ?? ''
  return repo.replace(/^git\+/, '').replace(/\.git$/, '')
}

export default defineConfig(({ mode }) => {
  const pkg = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'))
  const env = loadEnv(mode, process.cwd(), 'VITE_')
  const repoUrl = env.VITE_REPO_URL || repositoryUrl(pkg)
  const notebooksUrl = env.VITE_NOTEBOOKS_URL || (repoUrl ? `${repoUrl}/tree/HEAD/notebooks` : '')

  return {
    plugins: [react()],
    define: {
      __REPO_URL__: JSON.stringify(repoUrl),
      __NOTEBOOKS_URL__: JSON.stringify(notebooksUrl),
    },
    server: {
      proxy: {
        '/predict': API_TARGET,
        '/api': API_TARGET,
      },
    },
    preview: {
      proxy: {
        '/predict': API_TARGET,
        '/api': API_TARGET,
      },
    },
    test: {
      environment: 'jsdom',
      setupFiles: ['./src/setupTests.js'],
      restoreMocks: true,
      unstubGlobals: true,
    },
  }
})
