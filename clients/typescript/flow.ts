// A citizen's dossier typed against the types openapi-typescript generates from openapi.yaml:
// the request bodies and answers below must agree with the document, or `tsc --strict` fails.
import type { components, paths } from "./schema";

type Schemas = components["schemas"];
type Json<P extends keyof paths, M extends keyof paths[P]> = paths[P][M] extends {
  requestBody?: { content: { "application/json": infer B } };
}
  ? B
  : never;

const registration: Json<"/api/v1/registrations", "post"> = {
  account_type: "citizen",
  method: "phone",
  full_name: "Nguyễn Văn An",
  id_number: "001099012345",
  date_of_birth: "1999-05-01",
  phone: "0912345678",
};

const draft: Schemas["NewDossier"] = {
  procedure_id: "1.001193",
  agency_id: "H26.00070",
  delivery: { method: "online" },
  form_data: { child_full_name: "Nguyễn Minh Khang", child_sex: "Nam" },
};

const move: Schemas["TransitionInput"] = { action: "request_supplement", missing_documents: ["GCS"] };

async function call<T>(base: string, path: string, init: RequestInit): Promise<T> {
  const res = await fetch(base + path, init);
  if (!res.ok) {
    const problem = (await res.json()) as Schemas["Problem"];
    throw new Error(`${problem.status} ${problem.code}: ${problem.detail}`);
  }
  return (await res.json()) as T;
}

export async function citizenFlow(base: string, token: string): Promise<string> {
  const json = (body: unknown, auth = true): RequestInit => ({
    method: "POST",
    headers: { "Content-Type": "application/json", ...(auth ? { Authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  const started = await call<Schemas["RegistrationStarted"]>(base, "/api/v1/registrations", json(registration, false));
  const dossier = await call<Schemas["DossierView"]>(base, "/api/v1/dossiers", json(draft));
  const upload = new FormData();
  const slot: Schemas["AttachmentUpload"]["document_id"] = "TK-KS";
  upload.set("document_id", slot);
  upload.set("file", new Blob(["%PDF-1.4"], { type: "application/pdf" }), "to-khai.pdf");
  await call<Schemas["AttachmentView"]>(base, `/api/v1/dossiers/${dossier.id}/attachments`, {
    method: "POST",
    headers: { Authorization: `Bearer ${token}` },
    body: upload,
  });
  const submitted = await call<Schemas["DossierView"]>(base, `/api/v1/dossiers/${dossier.id}/submit`, json({}));
  const status: Schemas["DossierStatus"] = submitted.status;
  const tracked = await call<Schemas["PublicDossier"]>(base, `/api/v1/dossiers/lookup?code=${submitted.code ?? ""}`, {});
  const officer: Schemas["TransitionInput"] = move;
  return `${started.id} ${status} ${tracked.national_status_code ?? ""} ${officer.action ?? ""}`;
}
