// Why a certificate does not verify: the step that failed and a sentence in Spanish and in
// English. Thrown by the verifier's steps and caught once, in verifyCertificate.

export type Step = "formato" | "clave" | "firma" | "checkpoint" | "prueba" | "aritmetica";

export class VerifyError extends Error {
  constructor(
    readonly step: Step,
    readonly es: string,
    readonly en: string,
  ) {
    super(en);
  }
}

export function fail(step: Step, es: string, en: string): never {
  throw new VerifyError(step, es, en);
}
