//! What the document says beyond what the handlers' attributes give: public operations declare
//! that they need no token, problem answers are one response referred to, request bodies carry an
//! example, binary answers are typed as such, and operations link to those their answers feed.
//! Generators (openapi-generator, openapi-python-client, openapi-typescript) and linters (Redocly,
//! Spectral) read the result.

use serde_json::{json, Map, Value};

/// The examples of request bodies, by operation id.
const EXAMPLES: &str = include_str!("examples.json");

/// The media types whose answers are files.
const BINARY: &[&str] = &["application/octet-stream", "application/pdf", "image/png", "image/svg+xml"];

/// The GETs whose answers carry an ETag and answer 304 to an `If-None-Match` that names it.
const CONDITIONAL: &[&str] = &[
    "listProcedures",
    "getProcedure",
    "listFields",
    "listAgencies",
    "getAgency",
    "listAdminUnits",
    "listServiceLevels",
    "listMyDossiers",
    "listAgencyDossiers",
];

/// A follow-up of an answer: (operation, status, link name, target operation, parameters).
type Link = (&'static str, &'static str, &'static str, &'static str, &'static [(&'static str, &'static str)]);

/// The follow-ups of answers.
const LINKS: &[Link] = &[
    ("createDossier", "201", "getDossier", "getDossier", &[("id", "$response.body#/id")]),
    ("createDossier", "201", "updateDossier", "updateDossier", &[("id", "$response.body#/id")]),
    ("createDossier", "201", "uploadAttachment", "uploadAttachment", &[("id", "$response.body#/id")]),
    ("createDossier", "201", "submitDossier", "submitDossier", &[("id", "$response.body#/id")]),
    ("createDossier", "201", "getDossierHistory", "getDossierHistory", &[("id", "$response.body#/id")]),
    ("createDossier", "201", "getDossierFees", "getDossierFees", &[("id", "$response.body#/id")]),
    ("submitDossier", "200", "trackDossier", "trackDossier", &[("code", "$response.body#/code")]),
    ("submitDossier", "200", "withdrawDossier", "withdrawDossier", &[("id", "$response.body#/id")]),
    ("getDossier", "200", "getDossierHistory", "getDossierHistory", &[("id", "$response.body#/id")]),
    ("startRegistration", "201", "verifyRegistration", "verifyRegistration", &[("id", "$response.body#/id")]),
    ("startRegistration", "201", "resendRegistrationOtp", "resendRegistrationOtp", &[("id", "$response.body#/id")]),
    ("startRegistration", "201", "completeRegistration", "completeRegistration", &[("id", "$response.body#/id")]),
    ("createPayment", "201", "getPayment", "getPayment", &[("id", "$response.body#/id")]),
    ("createPayment", "201", "getPaymentVietqr", "getPaymentVietqr", &[("id", "$response.body#/id")]),
    ("createFeedback", "201", "getFeedback", "getFeedback", &[("id", "$response.body#/id")]),
    ("createWebhook", "201", "listWebhookDeliveries", "listWebhookDeliveries", &[("id", "$response.body#/id")]),
    ("createProcedure", "201", "getProcedure", "getProcedure", &[("id", "$response.body#/id")]),
    ("createAgency", "201", "getAgency", "getAgency", &[("id", "$response.body#/id")]),
];

/// Applies every rule to the document.
pub fn polish(doc: &mut Value) {
    free_form_objects(doc);
    doc["servers"] = json!([{"url": "/", "description": "The server that serves this document"}]);
    if let Some(license) = doc.pointer_mut("/info/license").and_then(Value::as_object_mut) {
        license.insert("identifier".into(), "Apache-2.0".into());
    }
    let examples: Map<String, Value> = serde_json::from_str(EXAMPLES).unwrap_or_default();
    let mut problem_used = false;
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        for item in paths.values_mut() {
            let Some(item) = item.as_object_mut() else { continue };
            for op in item.values_mut() {
                let Some(op) = op.as_object_mut() else { continue };
                let id = op.get("operationId").and_then(Value::as_str).unwrap_or_default().to_string();
                // An operation that names no scheme needs no token: it says so.
                op.entry("security").or_insert_with(|| json!([]));
                if let Some(example) = examples.get(&id) {
                    let content = op.get_mut("requestBody").and_then(|b| b.get_mut("content"));
                    if let Some(content) = content.and_then(Value::as_object_mut) {
                        for media in content.values_mut() {
                            media["example"] = example.clone();
                        }
                    }
                }
                if CONDITIONAL.contains(&id.as_str()) {
                    conditional(op);
                }
                let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) else { continue };
                for (status, response) in responses.iter_mut() {
                    problem_used |= refer_problem(response);
                    type_binary(response);
                    add_links(&id, status, response);
                }
            }
        }
    }
    if problem_used {
        let responses = doc["components"]
            .as_object_mut()
            .map(|c| c.entry("responses").or_insert_with(|| json!({})))
            .and_then(Value::as_object_mut);
        if let Some(responses) = responses {
            responses.insert(
                "Problem".into(),
                json!({
                    "description": "A problem (RFC 9457), in Vietnamese or, with `Accept-Language: en`, English",
                    "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
                }),
            );
        }
    }
}

/// An answer with an ETag: the `If-None-Match` parameter and the 304 answer.
fn conditional(op: &mut Map<String, Value>) {
    let parameters = op.entry("parameters").or_insert_with(|| json!([]));
    if let Some(list) = parameters.as_array_mut() {
        list.push(json!({
            "name": "If-None-Match", "in": "header", "required": false,
            "description": "The ETag of the copy you keep: 304 while it is current",
            "schema": {"type": "string"}
        }));
    }
    if let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) {
        responses
            .insert("304".into(), json!({"description": "Not modified: the copy named in If-None-Match is current"}));
        if let Some(ok) = responses.get_mut("200").and_then(Value::as_object_mut) {
            let headers = ok.entry("headers").or_insert_with(|| json!({}));
            headers["ETag"] = json!({"description": "The version of this answer", "schema": {"type": "string"}});
        }
    }
}

/// An object schema that lists no properties holds any (a form, stored JSON): it says so, as
/// generators otherwise type it as an object with nothing in it.
fn free_form_objects(value: &mut Value) {
    match value {
        Value::Object(map) => {
            let object = map
                .get("type")
                .is_some_and(|t| t == "object" || t.as_array().is_some_and(|a| a.contains(&json!("object"))));
            if object && !map.contains_key("properties") && !map.contains_key("additionalProperties") {
                map.insert("additionalProperties".into(), Value::Bool(true));
            }
            map.values_mut().for_each(free_form_objects);
        }
        Value::Array(items) => items.iter_mut().for_each(free_form_objects),
        _ => {}
    }
}

/// A problem answer becomes a reference to the one `Problem` response, keeping its description.
fn refer_problem(response: &mut Value) -> bool {
    let is_problem = response
        .pointer("/content/application~1problem+json/schema/$ref")
        .and_then(Value::as_str)
        .is_some_and(|r| r == "#/components/schemas/Problem");
    if !is_problem {
        return false;
    }
    let description = response.get("description").cloned().unwrap_or_else(|| json!("A problem"));
    *response = json!({"$ref": "#/components/responses/Problem", "description": description});
    true
}

/// A file answer is a binary string, whatever the attribute said.
fn type_binary(response: &mut Value) {
    let Some(content) = response.get_mut("content").and_then(Value::as_object_mut) else { return };
    for (media, body) in content.iter_mut() {
        if BINARY.contains(&media.as_str()) {
            body["schema"] = json!({"type": "string", "format": "binary"});
        }
    }
}

fn add_links(operation: &str, status: &str, response: &mut Value) {
    for (from, at, name, target, parameters) in LINKS {
        if *from == operation && *at == status {
            let parameters: Map<String, Value> =
                parameters.iter().map(|(k, v)| (k.to_string(), Value::String(v.to_string()))).collect();
            response["links"][*name] = json!({"operationId": target, "parameters": parameters});
        }
    }
}

/// YAML 1.1 readers take an unquoted `2025-07-01` for a date and `15:00` for a number: every
/// scalar that looks like a date, a time or a YAML 1.1 boolean is quoted.
pub fn quote_ambiguous(yaml: &str) -> String {
    let mut out = String::with_capacity(yaml.len() + 256);
    // The indentation of the key that opened a block scalar (`|-`), whose lines are text.
    let mut block: Option<usize> = None;
    for line in yaml.lines() {
        let indent = line.len() - line.trim_start().len();
        if block.is_some_and(|opened| indent > opened || line.trim().is_empty()) {
            out.push_str(line);
        } else {
            block = None;
            out.push_str(&quote_line(line));
            let opens = ["|", "|-", "|+", ">", ">-", ">+"].iter().any(|m| line.trim_end().ends_with(&format!(": {m}")));
            if opens {
                block = Some(indent);
            }
        }
        out.push('\n');
    }
    out
}

fn quote_line(line: &str) -> String {
    // `key: value` or `- value`, where value is a plain scalar.
    let (head, value) = match line.trim_start().strip_prefix("- ") {
        Some(rest) if !rest.contains(": ") => (&line[..line.len() - rest.len()], rest),
        _ => match line.find(": ") {
            Some(i) => (&line[..i + 2], &line[i + 2..]),
            None => return line.to_string(),
        },
    };
    if ambiguous(value) {
        format!("{head}'{value}'")
    } else {
        line.to_string()
    }
}

fn ambiguous(value: &str) -> bool {
    let v = value.trim();
    let date = v.len() >= 10
        && v.as_bytes()[4] == b'-'
        && v.as_bytes()[7] == b'-'
        && v[..4].bytes().all(|b| b.is_ascii_digit())
        && v[5..7].bytes().all(|b| b.is_ascii_digit());
    let time =
        v.len() <= 8 && v.contains(':') && v.split(':').all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    let boolean = matches!(v.to_ascii_lowercase().as_str(), "yes" | "no" | "on" | "off" | "y" | "n");
    date || time || boolean
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_times_and_old_booleans_are_quoted() {
        let yaml = "a:\n  example: 2025-07-01\n  time: 15:00\n  list:\n  - 2026-01-01T00:00:00Z\n  - x: 1\n  ok: plain\n  flag: on\n  text: |-\n    at: 15:00\n  after: 2026-01-01\n";
        let quoted = quote_ambiguous(yaml);
        assert!(quoted.contains("example: '2025-07-01'"), "{quoted}");
        assert!(quoted.contains("time: '15:00'"));
        assert!(quoted.contains("- '2026-01-01T00:00:00Z'"));
        assert!(quoted.contains("- x: 1"));
        assert!(quoted.contains("ok: plain"));
        assert!(quoted.contains("flag: 'on'"));
        assert!(quoted.contains("    at: 15:00\n"), "a block scalar's text stays as written");
        assert!(quoted.contains("after: '2026-01-01'"));
    }
}
