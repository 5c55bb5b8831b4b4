// The Ledger API over the Connect protocol (veta-server's HTTP listener: POST
// /veta.v1.Ledger/<Method>, protobuf JSON), from the same origin as the app. A session's bearer
// token (veta.v1.Session SignIn), when there is one, is sent with every call.
import { type Client, createClient, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";

import { Ledger } from "../gen/veta/v1/service_pb.js";

// Where the session's token is kept for this tab (sessionStorage: gone when the tab closes).
export const kTokenKey = "veta.session.token";

const bearer: Interceptor = (next) => async (req) => {
  const token = sessionStorage.getItem(kTokenKey);
  if (token) req.header.set("Authorization", `Bearer ${token}`);
  return next(req);
};

export function ledger(baseUrl = new URL(".", location.href).href.replace(/\/$/, "")): Client<typeof Ledger> {
  const transport = createConnectTransport({ baseUrl, useBinaryFormat: false, interceptors: [bearer] });
  return createClient(Ledger, transport);
}
