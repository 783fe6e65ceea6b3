/*
 * /api/tokens: API tokens for machine clients. Mounted under /api, so the app's auth guard covers it like
 * every other /api route. The secret appears once, in the answer to POST; lists never show it.
 */
import { type Request, type Response, Router } from "express";
import { z } from "zod";
import { NotFoundError } from "../../lib/errors";
import type { AuthServices } from "../../security/authServices";

const CreateTokenBody = z.strictObject({
  name: z
    .string()
    .trim()
    .min(1, "is required")
    .max(100)
    .regex(/^[^\p{Cc}]*$/u, "must not contain control characters"),
});
const TokenId = z.string().regex(/^[A-Za-z0-9_-]{1,32}$/);

export function tokensRouter(auth: Pick<AuthServices, "tokens">): Router {
  const router = Router();

  router.post("/api/tokens", async (req: Request, res: Response) => {
    const { name } = CreateTokenBody.parse(req.body);
    const created = await auth.tokens.create(name);
    res.status(201).location(`/api/tokens/${created.id}`).json(created);
  });

  router.get("/api/tokens", async (_req: Request, res: Response) => {
    res.json({ tokens: await auth.tokens.list() });
  });

  router.delete("/api/tokens/:id", async (req: Request, res: Response) => {
    const raw = String(req.params.id);
    const id = TokenId.safeParse(raw);
    if (!id.success || !(await auth.tokens.revoke(id.data)))
      throw new NotFoundError(`no token ${JSON.stringify(raw.slice(0, 100))}`);
    res.status(204).end();
  });

  return router;
}
