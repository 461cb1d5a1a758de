// GET /openapi.json and GET /docs: both built from the routes' own schemas.
import type { ApiApp, RouteGroup } from '../context.js';
import { renderDocsPage, type OpenApiDocLike } from '../docs-page.js';

export function openApiDocument(app: ApiApp) {
  return app.getOpenAPI31Document({
    openapi: '3.1.0',
    info: {
      title: 'Hallmark',
      version: '0.1.0',
      description: 'Watermark ML models, keep a verifiable provenance ledger, and verify suspected stolen copies.',
      license: { name: 'Apache-2.0', url: 'https://www.apache.org/licenses/LICENSE-2.0' },
    },
    // Relative: the document describes the server that serves it, wherever it is deployed.
    servers: [{ url: '/', description: 'the Hallmark server that serves this document' }],
  });
}

export const docRoutes: RouteGroup = (app) => {
  app.openAPIRegistry.registerComponent('securitySchemes', 'apiKey', { type: 'http', scheme: 'bearer', description: 'hm_<id>_<secret>' });
  app.get('/openapi.json', (c) => c.json(openApiDocument(app)));
  app.get('/docs', (c) => c.html(renderDocsPage(openApiDocument(app) as unknown as OpenApiDocLike)));
};
