"""A citizen's dossier through the Python client that openapi-python-client generates from
openapi.yaml: register by phone (sandbox OTP), sign in, download the procedure's form, draft a
birth registration, attach the form, submit, and track the dossier by its code. Every call goes
through the generated functions and models; any answer but the expected one fails the run.

    python flow.py http://127.0.0.1:8080
"""

import datetime
import random
import sys

from dvc_client import AuthenticatedClient, Client
from dvc_client.api.accounts import complete_registration, start_registration, verify_registration
from dvc_client.api.auth import sign_in
from dvc_client.api.catalogue import download_form, get_procedure
from dvc_client.api.dossiers import create_dossier, submit_dossier, track_dossier, upload_attachment
from dvc_client.models import (
    AttachmentUpload,
    CompleteRequest,
    Delivery,
    DossierView,
    NewDossier,
    NewDossierFormData,
    ProcedureView,
    PublicDossier,
    RegistrationMethod,
    RegistrationRequest,
    RegistrationStarted,
    TokenRequest,
    TokenResponse,
    VerifyRequest,
)
from dvc_client.types import File


def expect(value, kind, what):
    if not isinstance(value, kind):
        sys.exit(f"{what}: expected {kind.__name__}, got {value!r}")
    return value


def main(base):
    public = Client(base_url=base)
    id_number = "0010990" + f"{random.randrange(100000):05d}"
    phone = "091" + f"{random.randrange(10000000):07d}"
    started = expect(
        start_registration.sync(
            client=public,
            body=RegistrationRequest(
                account_type="citizen",
                method=RegistrationMethod.PHONE,
                full_name="Nguyễn Văn An",
                id_number=id_number,
                date_of_birth=datetime.date(1999, 5, 1),
                phone=phone,
            ),
        ),
        RegistrationStarted,
        "registration",
    )
    otp = started.additional_properties.get("sandbox_otp") or getattr(started, "sandbox_otp", None)
    expect(verify_registration.sync(started.id, client=public, body=VerifyRequest(otp=otp)), object, "verify")
    complete_registration.sync(started.id, client=public, body=CompleteRequest(password="Matkhau@2026"))
    tokens = expect(
        sign_in.sync(client=public, body=TokenRequest(username=id_number, password="Matkhau@2026")),
        TokenResponse,
        "sign-in",
    )
    citizen = AuthenticatedClient(base_url=base, token=tokens.access_token)

    procedure = expect(get_procedure.sync("1.001193", client=public), ProcedureView, "procedure")
    form = expect(download_form.sync("1.001193", procedure.forms[0].id, client=public), File, "form")
    pdf = form.payload.read()
    if not pdf.startswith(b"%PDF-"):
        sys.exit("the form is not a PDF")

    form_data = NewDossierFormData.from_dict(
        {
            "child_full_name": "Nguyễn Minh Khang",
            "child_date_of_birth": "2026-11-20",
            "child_sex": "Nam",
            "place_of_birth": "Bệnh viện Phụ sản Hà Nội",
            "mother_full_name": "Trần Thị Hoa",
        }
    )
    draft = expect(
        create_dossier.sync(
            client=citizen,
            body=NewDossier(
                procedure_id="1.001193",
                agency_id="H26.00070",
                delivery=Delivery(method="online"),
                form_data=form_data,
            ),
        ),
        DossierView,
        "draft",
    )
    for slot in ("TK-KS", "GCS"):
        attached = upload_attachment.sync(
            draft.id,
            client=citizen,
            body=AttachmentUpload(
                document_id=slot,
                file=File(payload=pdf, file_name=f"{slot}.pdf", mime_type="application/pdf"),
            ),
        )
        if getattr(attached, "document_id", None) != slot:
            sys.exit(f"attachment {slot}: {attached!r}")
    submitted = expect(submit_dossier.sync(draft.id, client=citizen), DossierView, "submission")
    if submitted.status.value != "submitted" or not submitted.code:
        sys.exit(f"not submitted: {submitted!r}")
    tracked = expect(track_dossier.sync(client=public, code=submitted.code), PublicDossier, "tracking")
    if tracked.national_status_code != 1:
        sys.exit(f"tracked as {tracked.national_status_code}")
    print(f"python client: {submitted.code} submitted and tracked")


if __name__ == "__main__":
    main(sys.argv[1])
