// Builds the clinic app into dist/; public/ (service worker, manifest, icon) is copied as is.
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

export default defineConfig({
  plugins: [react()],
  // One copy of each at runtime, even where npm nested a second one (starter-kit's own @tiptap/core).
  resolve: { dedupe: ['@tiptap/core', '@tiptap/pm', 'yjs', 'y-protocols', 'lib0', 'react', 'react-dom'] },
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 1500 },
  server: { proxy: { '/api': 'http://localhost:8787', '/sync': { target: 'ws://localhost:8787', ws: true } } },
});
