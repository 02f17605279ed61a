//! The diesel schema, written with portable types only so that one definition serves both backends.

diesel::table! {
    admin_units (code) {
        code -> Text,
        name -> Text,
        unit_type -> Text,
        level -> Text,
        parent_code -> Nullable<Text>,
        name_folded -> Text,
    }
}

diesel::table! {
    fields (id) {
        id -> Text,
        code -> Text,
        name -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    agencies (id) {
        id -> Text,
        code -> Text,
        name -> Text,
        name_folded -> Text,
        tier -> Text,
        admin_unit_code -> Nullable<Text>,
        parent_id -> Nullable<Text>,
        address -> Nullable<Text>,
        phone -> Nullable<Text>,
        email -> Nullable<Text>,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    procedures (id) {
        id -> Text,
        code -> Text,
        name -> Text,
        name_folded -> Text,
        field_id -> Text,
        tier -> Text,
        service_level -> Integer,
        online -> Text,
        audiences -> Text,
        processing_days -> Integer,
        fees -> Text,
        required_documents -> Text,
        forms -> Text,
        steps -> Text,
        legal_basis -> Text,
        result -> Text,
        form_schema -> Nullable<Text>,
        version -> Integer,
        effective_from -> Date,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        receipt_cutoff -> Nullable<Text>,
        min_assurance_level -> Integer,
        bundle -> Nullable<Text>,
    }
}

diesel::table! {
    procedure_agencies (procedure_id, agency_id) {
        procedure_id -> Text,
        agency_id -> Text,
    }
}

diesel::table! {
    accounts (id) {
        id -> Text,
        account_type -> Text,
        role -> Text,
        username -> Text,
        full_name -> Text,
        password_hash -> Text,
        agency_id -> Nullable<Text>,
        assurance -> Text,
        disabled -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        id_number -> Nullable<Text>,
        tax_code -> Nullable<Text>,
        phone -> Nullable<Text>,
        email -> Nullable<Text>,
        date_of_birth -> Nullable<Date>,
        bhxh_code -> Nullable<Text>,
        registration_method -> Nullable<Text>,
        profile -> Text,
        failed_logins -> Integer,
        locked_until -> Nullable<Timestamp>,
        version -> Integer,
    }
}

diesel::table! {
    registrations (id) {
        id -> Text,
        account_type -> Text,
        method -> Text,
        full_name -> Text,
        id_number -> Nullable<Text>,
        tax_code -> Nullable<Text>,
        date_of_birth -> Nullable<Date>,
        phone -> Nullable<Text>,
        email -> Nullable<Text>,
        bhxh_code -> Nullable<Text>,
        status -> Text,
        assurance -> Nullable<Text>,
        otp_hash -> Nullable<Text>,
        otp_expires_at -> Nullable<Timestamp>,
        otp_attempts -> Integer,
        otp_last_sent_at -> Nullable<Timestamp>,
        challenge -> Nullable<Text>,
        certificate_subject -> Nullable<Text>,
        expires_at -> Timestamp,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    password_resets (id) {
        id -> Text,
        account_id -> Nullable<Text>,
        otp_hash -> Text,
        otp_expires_at -> Timestamp,
        otp_attempts -> Integer,
        used_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    refresh_tokens (id) {
        id -> Text,
        account_id -> Text,
        family_id -> Text,
        token_hash -> Text,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        assurance -> Nullable<Text>,
    }
}

diesel::table! {
    notifications (id) {
        id -> Text,
        channel -> Text,
        recipient -> Text,
        purpose -> Text,
        body -> Text,
        status -> Text,
        attempts -> Integer,
        created_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
        phone -> Nullable<Text>,
        email -> Nullable<Text>,
        plan -> Text,
        step -> Integer,
        channel_attempts -> Integer,
        params -> Text,
        language -> Text,
        provider_id -> Nullable<Text>,
        last_error -> Nullable<Text>,
        next_attempt_at -> Nullable<Timestamp>,
        updated_at -> Nullable<Timestamp>,
        delivered_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    signed_results (verification_code) {
        verification_code -> Text,
        file_id -> Text,
        dossier_id -> Text,
        agency_id -> Text,
        sha256 -> Text,
        filename -> Text,
        holder_name -> Text,
        issued_at -> Timestamp,
        signed_text -> Text,
        algorithm -> Nullable<Text>,
        signature -> Nullable<Text>,
        certificate_pem -> Nullable<Text>,
        revoked_at -> Nullable<Timestamp>,
        revoked_by -> Nullable<Text>,
        revoke_reason -> Nullable<Text>,
    }
}

diesel::table! {
    used_challenges (challenge) {
        challenge -> Text,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    provider_tokens (provider) {
        provider -> Text,
        access_token -> Text,
        refresh_token -> Text,
        expires_at -> Timestamp,
        refreshing_until -> Nullable<Timestamp>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    rate_limits (bucket, window_start) {
        bucket -> Text,
        window_start -> BigInt,
        hits -> Integer,
    }
}

diesel::table! {
    sign_in_failures (key) {
        key -> Text,
        failures -> Integer,
        blocked_until -> Timestamp,
    }
}

diesel::joinable!(procedures -> fields (field_id));
diesel::joinable!(procedure_agencies -> procedures (procedure_id));
diesel::joinable!(procedure_agencies -> agencies (agency_id));
diesel::joinable!(accounts -> agencies (agency_id));

diesel::table! {
    holidays (day) {
        day -> Date,
        name -> Text,
        working -> Bool,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    dossiers (id) {
        id -> Text,
        code -> Nullable<Text>,
        procedure_id -> Text,
        procedure_version -> Integer,
        procedure_snapshot -> Text,
        agency_id -> Text,
        applicant_id -> Nullable<Text>,
        applicant -> Text,
        status -> Text,
        channel -> Text,
        form_data -> Text,
        delivery -> Text,
        submitted_at -> Nullable<Timestamp>,
        received_at -> Nullable<Timestamp>,
        due_date -> Nullable<Date>,
        working_days_allowed -> Integer,
        working_days_spent -> Integer,
        clock_started_on -> Nullable<Date>,
        finished_at -> Nullable<Timestamp>,
        timeliness -> Nullable<Text>,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        fee_vnd -> BigInt,
        change_txid -> BigInt,
        change_seq -> BigInt,
        rescheduled_due_date -> Nullable<Date>,
    }
}

diesel::table! {
    dossier_events (id) {
        id -> Text,
        dossier_id -> Text,
        at -> Timestamp,
        action -> Text,
        from_status -> Nullable<Text>,
        to_status -> Text,
        actor_id -> Nullable<Text>,
        actor_role -> Text,
        note -> Nullable<Text>,
        data -> Text,
    }
}

diesel::table! {
    dossier_counts (kind, key, shard) {
        kind -> Text,
        key -> Text,
        shard -> SmallInt,
        n -> BigInt,
        changes -> BigInt,
    }
}

diesel::table! {
    dossier_code_counters (prefix) {
        prefix -> Text,
        last_number -> Integer,
    }
}

diesel::table! {
    files (id) {
        id -> Text,
        owner_id -> Nullable<Text>,
        filename -> Text,
        content_type -> Text,
        size -> BigInt,
        sha256 -> Text,
        storage_key -> Text,
        digitization -> Integer,
        created_at -> Timestamp,
    }
}

diesel::table! {
    dossier_attachments (id) {
        id -> Text,
        dossier_id -> Text,
        document_id -> Text,
        file_id -> Text,
        kind -> Text,
        created_by -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::joinable!(dossier_attachments -> files (file_id));
diesel::joinable!(dossier_attachments -> dossiers (dossier_id));
diesel::joinable!(dossier_events -> dossiers (dossier_id));
diesel::joinable!(dossiers -> procedures (procedure_id));
diesel::joinable!(dossiers -> agencies (agency_id));

diesel::table! {
    payments (id) {
        id -> Text,
        dossier_id -> Text,
        phase -> Text,
        provider -> Text,
        amount_vnd -> BigInt,
        status -> Text,
        reference -> Text,
        provider_txn_no -> Nullable<Text>,
        bank_code -> Nullable<Text>,
        confirmed_at -> Nullable<Timestamp>,
        refund_reason -> Nullable<Text>,
        refunded_by -> Nullable<Text>,
        refunded_at -> Nullable<Timestamp>,
        created_by -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    payment_callbacks (id) {
        id -> Text,
        provider -> Text,
        reference -> Nullable<Text>,
        payload -> Text,
        signature_valid -> Bool,
        outcome -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    idempotency_keys (scope, idem_key) {
        scope -> Text,
        idem_key -> Text,
        request_hash -> Text,
        status -> Integer,
        body -> Text,
        created_at -> Timestamp,
    }
}

diesel::joinable!(payments -> dossiers (dossier_id));

diesel::allow_tables_to_appear_in_same_query!(
    admin_units,
    fields,
    agencies,
    procedures,
    procedure_agencies,
    accounts,
    search_synonyms,
    registrations,
    password_resets,
    refresh_tokens,
    notifications,
    provider_tokens,
    signed_results,
    used_challenges,
    rate_limits,
    holidays,
    dossiers,
    dossier_events,
    dossier_code_counters,
    dossier_counts,
    files,
    dossier_attachments,
    payments,
    payment_callbacks,
    idempotency_keys,
    feedback,
    feedback_events,
    ratings,
    integration_clients,
    integration_events,
    webhooks,
    webhook_deliveries,
    webhook_attempts,
    catalogue_version,
);

diesel::table! {
    feedback (id) {
        id -> Text,
        code -> Text,
        kind -> Text,
        title -> Text,
        content -> Text,
        author_id -> Text,
        agency_id -> Text,
        procedure_id -> Nullable<Text>,
        dossier_id -> Nullable<Text>,
        status -> Text,
        publish -> Bool,
        answer -> Nullable<Text>,
        answered_by -> Nullable<Text>,
        answered_at -> Nullable<Timestamp>,
        reopened -> Integer,
        closed_at -> Nullable<Timestamp>,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    feedback_events (id) {
        id -> Text,
        feedback_id -> Text,
        at -> Timestamp,
        action -> Text,
        from_status -> Nullable<Text>,
        to_status -> Text,
        actor_id -> Nullable<Text>,
        actor_role -> Text,
        note -> Nullable<Text>,
    }
}

diesel::table! {
    ratings (id) {
        id -> Text,
        dossier_id -> Text,
        agency_id -> Text,
        procedure_id -> Text,
        author_id -> Text,
        score -> Integer,
        attitude -> Nullable<Integer>,
        timeliness -> Nullable<Integer>,
        transparency -> Nullable<Integer>,
        comment -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::joinable!(feedback_events -> feedback (feedback_id));
diesel::joinable!(feedback -> agencies (agency_id));
diesel::joinable!(ratings -> dossiers (dossier_id));

diesel::table! {
    integration_clients (id) {
        id -> Text,
        client_id -> Text,
        name -> Text,
        secret_hash -> Text,
        agency_ids -> Text,
        active -> Bool,
        created_by -> Nullable<Text>,
        secret_rotated_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    integration_events (seq) {
        seq -> BigInt,
        txid -> BigInt,
        id -> Text,
        event_type -> Text,
        agency_id -> Text,
        dossier_id -> Nullable<Text>,
        dossier_code -> Nullable<Text>,
        data -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    webhooks (id) {
        id -> Text,
        client_id -> Text,
        url -> Text,
        events -> Text,
        secret -> Text,
        active -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> Text,
        webhook_id -> Text,
        event_id -> Text,
        event_type -> Text,
        payload -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        give_up_at -> Timestamp,
        last_status -> Nullable<Integer>,
        last_error -> Nullable<Text>,
        delivered_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    webhook_attempts (id) {
        id -> Text,
        delivery_id -> Text,
        attempt -> Integer,
        at -> Timestamp,
        status_code -> Nullable<Integer>,
        error -> Nullable<Text>,
        duration_ms -> Integer,
    }
}

diesel::joinable!(webhooks -> integration_clients (client_id));
diesel::joinable!(webhook_deliveries -> webhooks (webhook_id));
diesel::joinable!(webhook_attempts -> webhook_deliveries (delivery_id));

diesel::table! {
    catalogue_version (id) {
        id -> Integer,
        version -> BigInt,
    }
}

diesel::table! {
    /// Entries administrators add to the shipped search thesaurus, in order.
    search_synonyms (position) {
        position -> Integer,
        kind -> Text,
        terms -> Text,
        expansions -> Text,
        updated_by -> Nullable<Text>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    fines (id) {
        id -> Text,
        decision_number -> Text,
        agency_id -> Text,
        decided_on -> Date,
        violator_name -> Text,
        violator_id_number -> Nullable<Text>,
        plate -> Nullable<Text>,
        violation -> Text,
        legal_basis -> Nullable<Text>,
        amount_vnd -> BigInt,
        pay_by -> Date,
        status -> Text,
        paid_at -> Nullable<Timestamp>,
        paid_vnd -> Nullable<BigInt>,
        registered_by -> Nullable<Text>,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    fine_payments (id) {
        id -> Text,
        fine_id -> Text,
        provider -> Text,
        fine_vnd -> BigInt,
        surcharge_vnd -> BigInt,
        amount_vnd -> BigInt,
        status -> Text,
        reference -> Text,
        provider_txn_no -> Nullable<Text>,
        bank_code -> Nullable<Text>,
        confirmed_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    receipts (id) {
        id -> Text,
        agency_id -> Text,
        year -> Integer,
        number -> Integer,
        series -> Text,
        payment_kind -> Text,
        payment_id -> Text,
        payer_name -> Text,
        content -> Text,
        amount_vnd -> BigInt,
        issued_at -> Timestamp,
        verification_code -> Text,
    }
}

diesel::table! {
    receipt_counters (agency_id, year) {
        agency_id -> Text,
        year -> Integer,
        last_number -> Integer,
    }
}

diesel::joinable!(fine_payments -> fines (fine_id));
diesel::joinable!(fines -> agencies (agency_id));
diesel::allow_tables_to_appear_in_same_query!(fines, fine_payments, agencies);

diesel::table! {
    oidc_states (state) {
        state -> Text,
        provider -> Text,
        nonce -> Text,
        code_verifier -> Text,
        redirect_uri -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    federated_identities (provider, subject) {
        provider -> Text,
        subject -> Text,
        account_id -> Text,
        assurance_level -> Integer,
        created_at -> Timestamp,
        last_sign_in_at -> Timestamp,
    }
}
