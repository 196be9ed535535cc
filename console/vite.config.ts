import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The gateway serves the built console at /console/ (GATEWAY_CONSOLE_DIR) and the API at /graphql on
// the same origin. `npm run dev -w console` proxies /graphql to a gateway on GATEWAY_URL (npm start's by default).
export default defineConfig({
  base: '/console/',
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // The gateway's Content-Security-Policy allows no inline script: keep Vite from adding one.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
  },
  server: {
    proxy: { '/graphql': process.env.GATEWAY_URL ?? 'http://127.0.0.1:4000' },
  },
});
