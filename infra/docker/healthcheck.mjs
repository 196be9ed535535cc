// The images' HEALTHCHECK: GET /health on the service's port (PORT, else its default from service.json).
import { readFileSync } from 'node:fs';

const { port } = JSON.parse(readFileSync(new URL('./service.json', import.meta.url), 'utf8'));
fetch(`http://127.0.0.1:${process.env.PORT || port}/health`, { signal: AbortSignal.timeout(2500) }).then(
  (response) => process.exit(response.ok ? 0 : 1),
  () => process.exit(1),
);
