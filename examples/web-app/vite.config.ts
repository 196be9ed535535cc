import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// `npm run dev -w examples/web-app` serves the app on http://localhost:5173, an origin the gateway
// allows outside production (GATEWAY_CORS_ORIGINS), talking to the gateway of `npm start`.
// `npm start` builds it (dev/src/web-apps.ts) and serves the build on its own origin, port 5173.
export default defineConfig({
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022', // top-level await in main.tsx
    // Served with a Content-Security-Policy that allows no inline script.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
  },
  server: { port: 5173, strictPort: true },
});
