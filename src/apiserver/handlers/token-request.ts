// serviceaccounts/token: TokenRequest (see ../serviceaccount/token-request.ts).
import { ApiError } from '../errors.ts';
import { negotiate } from '../http/negotiate.ts';
import { send } from '../http/respond.ts';
import { createTokenRequest } from '../serviceaccount/token-request.ts';
import { readObject, warningHeaders, type HandlerContext } from './resource.ts';

export async function requestToken(ctx: HandlerContext): Promise<void> {
  const { info, registry } = ctx;
  if (!ctx.tokenIssuer) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource', {});
  const neg = negotiate(ctx.req.headers.accept);
  const body = await readObject(ctx);
  const out = await createTokenRequest({ registry, issuer: ctx.tokenIssuer, namespace: info.namespace!, name: info.name!, body });
  send(ctx.res, 201, out, neg.format, warningHeaders(ctx.warnings));
}
