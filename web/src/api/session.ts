// Sign-in without passwords (veta.v1.Session over the Connect API): the server's challenge is
// signed here, as a DSSE envelope, with a key kept non-extractable in this browser; the bearer
// token it is traded for lives in sessionStorage (this tab only) and goes with every call.
import { create } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";

import { EnvelopeSchema, SignatureSchema } from "../gen/veta/v1/envelope_pb.js";
import { Session, type SignInResponse, type WhoAmIResponse } from "../gen/veta/v1/session_pb.js";
import { pae } from "../sign/envelope.js";
import { type SigningKey, signBytes } from "../sign/keys.js";
import { kTokenKey } from "./client.js";

// docs/HTTP_API.md: what SignIn accepts, and all this page will sign when signing in.
export const kChallengePayloadType = "application/vnd.veta.session-challenge";

function session() {
  const baseUrl = new URL(".", location.href).href.replace(/\/$/, "");
  return createClient(Session, createConnectTransport({
    baseUrl,
    useBinaryFormat: false,
    interceptors: [(next) => async (req) => {
      const token = sessionStorage.getItem(kTokenKey);
      if (token) req.header.set("Authorization", `Bearer ${token}`);
      return next(req);
    }],
  }));
}

export async function signIn(key: SigningKey): Promise<SignInResponse> {
  const s = session();
  const challenge = await s.challenge({});
  // Sign nothing but a session challenge: a server naming another payload type (a sale's) or
  // sending more than a challenge's 32 bytes would otherwise get that signed with this key.
  if (challenge.payloadType !== kChallengePayloadType || challenge.challenge.length !== 32) {
    throw new Error(
      `the server's challenge is not a session challenge (${challenge.payloadType}, ` +
        `${challenge.challenge.length} bytes): not signed`,
    );
  }
  const sig = await signBytes(key, pae(challenge.payloadType, challenge.challenge));
  const envelope = create(EnvelopeSchema, {
    payloadType: challenge.payloadType,
    payload: challenge.challenge,
    signatures: [create(SignatureSchema, { sig, keyid: key.keyid })],
  });
  const answer = await s.signIn({ envelope });
  sessionStorage.setItem(kTokenKey, answer.token);
  return answer;
}

export async function signOut(): Promise<void> {
  try {
    await session().signOut({});
  } finally {
    sessionStorage.removeItem(kTokenKey);
  }
}

export const whoAmI = (): Promise<WhoAmIResponse> => session().whoAmI({});
