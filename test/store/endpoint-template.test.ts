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
    // Prefixed random ids (Stripe style) and other identifier shapes.
    ['/orders/ord_4z0f8', '/orders/:id'],
    ['/users/usr_2x9k1q/orders/ord_4z0f8', '/users/:id/orders/:id'],
    ['/v1/customers/cus_J8kL2mN', '/v1/customers/:id'],
    ['/v1/payment_intents/pi_3MtwBwLkdIwHu7ix28a3tqPa/confirm', '/v1/payment_intents/:id/confirm'],
    ['/keys/sk_test_4eC39HqLyjWDarjtT1zdp7dc', '/keys/:id'],
    ['/v1/charges/ch_abcdefghij1', '/v1/charges/:id'],
    ['/items/01ARZ3NDEKTSV4RRFFQ69G5FAV', '/items/:id'], // ULID
    ['/blobs/e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', '/blobs/:id'], // sha256
    ['/commits/9fceb02', '/commits/9fceb02'], // a 7-char short sha is too short to tell from a word
    ['/watch/dQw4w9WgXcQ', '/watch/:id'],
    ['/s/aB3dE5gH', '/s/:id'],
    ['/orders/-42/lines/3.5', '/orders/:id/lines/:id'],
    ['/sessions/AbCdEfGhIjKlMnOpQrSt1uVw/events', '/sessions/:id/events'],
    // Ordinary words, versions and file names stay.
    ['/api/v2/users', '/api/v2/users'],
    ['/health', '/health'],
    ['/en-US/docs', '/en-US/docs'],
    ['/payment_intents/search', '/payment_intents/search'],
    ['/api/get_user2', '/api/get_user2'],
    ['/api_v2/orders', '/api_v2/orders'],
    ['/oauth2callback', '/oauth2callback'],
    ['/js/html5shiv.min.js', '/js/html5shiv.min.js'],
    ['/apis/apps/v1beta1/deployments', '/apis/apps/v1beta1/deployments'],
    ['/apis/v2alpha1/jobs', '/apis/v2alpha1/jobs'],
    ['/media/h264/1080p', '/media/h264/1080p'],
    ['/user_profile/settings', '/user_profile/settings'],
    ['/static/app.3f9a.js', '/static/app.3f9a.js'],
    ['/search', '/search'],
  ])('%s → %s', (path, template) => {
    expect(collapsePathIds(path)).toBe(template);
  });
});
