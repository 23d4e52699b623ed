import { describe, expect, it } from 'vitest';
import { collapsePathIds } from '../../store/endpoint-template.js';

describe('collapsePathIds', () => {
  it.each([
    ['/users/123', '/users/:id'],
    ['/users/123/orders/9f1c2e3a-0b1c-4d2e-8f00-aa11bb22cc33', '/users/:id/orders/:id'],
    ['/objects/5f8d0d55b54764421b7156c9', '/objects/:id'],
    ['/files/a1B2c3D4e5F6g7H8i9J0', '/files/:id'],
    ['/reports/2026-11-23', '/reports/:id'],
    ['/cart/items/RUN-42', '/cart/items/:id'],
    ['/api/v1/users', '/api/v1/users'],
    ['/oauth2/token', '/oauth2/token'],
    ['/', '/'],
    ['/static/app.js', '/static/app.js'],
  ])('%s → %s', (path, template) => {
    expect(collapsePathIds(path)).toBe(template);
  });
});
