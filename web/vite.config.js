// The page is static: `npm run build` writes web/dist (index.html, one script, the metadata under metadata/).
import { defineConfig } from 'vite';

export default defineConfig({
  base: './',
  build: { outDir: 'dist', emptyOutDir: true, chunkSizeWarningLimit: 2048 },
});
