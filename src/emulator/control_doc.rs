//! The OpenAPI 3.1 document of the emulator's control routes, built from
//! what the routes are: `admin`'s route table hands over each route's
//! [`Operation`] (its words, and the schemas of its request and answer types
//! as schemars derives them), so a route cannot be served undocumented and
//! its document cannot describe other types than it takes and answers.
//!
//! This module knows nothing of handlers or records: `admin` (and the
//! records, for [`Nullable`]) use it, never the other way round.

use std::marker::PhantomData;

use schemars::gen::{SchemaGenerator, SchemaSettings};
use schemars::schema::{Schema, SchemaObject, SingleOrVec};
use schemars::visit::{visit_schema_object, Visitor};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::{json, Map, Value};

/// Where component schemas live in an OpenAPI document: the generator's
/// `$ref`s point here.
const COMPONENTS: &str = "#/components/schemas/";

/// A type's schema as the generator gives it (`subschema_for::<T>`): named
/// types become `$ref`s into the components, the rest is inline.
pub(super) type SchemaFn = fn(&mut SchemaGenerator) -> Schema;

/// What the document says of one control route: written next to the route
/// in `admin`'s table, its schemas taken from the handler's own types.
pub(super) struct Operation {
    /// `GET`, `POST` or `DELETE`.
    pub(super) method: &'static str,
    /// The path, under `/__emulator/`.
    pub(super) path: &'static str,
    /// The words: operation id, summary, description.
    pub(super) words: Words,
    /// The JSON body it takes, if it reads one (it is then refused with 400
    /// when the body does not parse).
    pub(super) request: Option<SchemaFn>,
    /// What it answers with HTTP 200.
    pub(super) answer: SchemaFn,
}

/// The words of an operation: what a reader of the document sees besides
/// the schemas.
#[derive(Clone, Copy)]
pub(super) struct Words {
    /// The `operationId`, what generated clients name the call.
    pub(super) id: &'static str,
    /// One line.
    pub(super) summary: &'static str,
    /// What the route does, in full.
    pub(super) description: &'static str,
}

/// Why a control request was refused: the body of every HTTP 400 answer.
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "Error")]
pub(super) struct Refusal {
    /// What was wrong with the request.
    pub(super) error: String,
}

/// The schema of an `Option<T>` member that is always serialized: present,
/// `T` or null. schemars 0.8 reads a bare `Option` as a member that may be
/// absent (as it may when deserializing), which an answer's is not; a field
/// says `#[schemars(with = "Nullable<T>")]` to be listed as required.
pub(super) struct Nullable<T>(PhantomData<T>);

impl<T: JsonSchema> JsonSchema for Nullable<T> {
    fn is_referenceable() -> bool {
        false
    }

    fn schema_name() -> String {
        format!("Nullable_{}", T::schema_name())
    }

    fn json_schema(gen: &mut SchemaGenerator) -> Schema {
        <Option<T>>::json_schema(gen)
    }
}

/// Turns draft 2019-09's tuple form (`items` as an array) into OpenAPI 3.1's
/// dialect, JSON Schema 2020-12, where that is `prefixItems` (an array
/// `items` is an error there). Everything else schemars writes is the same
/// in both.
#[derive(Debug, Clone)]
struct PrefixItems;

impl Visitor for PrefixItems {
    fn visit_schema_object(&mut self, schema: &mut SchemaObject) {
        visit_schema_object(self, schema);
        let Some(array) = schema.array.as_mut() else { return };
        if let Some(SingleOrVec::Vec(items)) = array.items.as_mut() {
            let items = serde_json::to_value(std::mem::take(items)).unwrap_or(Value::Null);
            array.items = None;
            schema.extensions.insert("prefixItems".to_owned(), items);
        }
    }
}

/// The generator of the document's schemas: JSON Schema as OpenAPI 3.1
/// reads it (`Option<T>` is `type: [T, "null"]`, not 3.0's `nullable`), with
/// named types referenced under `components.schemas` and no `$schema`.
fn generator() -> SchemaGenerator {
    let mut settings = SchemaSettings::draft2019_09();
    settings.definitions_path = COMPONENTS.to_owned();
    settings.option_add_null_type = true;
    settings.option_nullable = false;
    settings.meta_schema = None;
    settings.into_generator()
}

/// `schema` in 2020-12's dialect, as JSON.
fn finished(mut schema: Schema) -> Value {
    PrefixItems.visit_schema(&mut schema);
    serde_json::to_value(schema).unwrap_or(Value::Null)
}

/// A JSON body with `schema`, as a request body or an answer holds it.
fn json_content(schema: Value) -> Value {
    json!({ "application/json": { "schema": schema } })
}

/// The OpenAPI 3.1 document of `operations`: one operation per route, every
/// named type once under `components.schemas`, and the 400 answer shared by
/// the routes that read a body.
pub(super) fn document(operations: &[Operation]) -> Value {
    let mut gen = generator();
    let refusal = finished(gen.subschema_for::<Refusal>());
    let mut paths = Map::new();
    for operation in operations {
        let mut entry = json!({
            "operationId": operation.words.id,
            "summary": operation.words.summary,
            "description": operation.words.description,
            "tags": ["emulator"],
            "responses": {
                "200": { "description": "OK", "content": json_content(finished((operation.answer)(&mut gen))) }
            },
        });
        if let Some(request) = operation.request {
            entry["requestBody"] =
                json!({ "required": true, "content": json_content(finished(request(&mut gen))) });
            entry["responses"]["400"] = json!({ "$ref": "#/components/responses/BadRequest" });
        }
        let item = paths.entry(operation.path).or_insert_with(|| json!({}));
        item[operation.method.to_ascii_lowercase()] = entry;
    }
    let schemas: Map<String, Value> =
        gen.take_definitions().into_iter().map(|(name, schema)| (name, finished(schema))).collect();
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "wecom-openwork emulator controls",
            "version": "1.0.0",
            "description": "The control API of the wecom-openwork WeCom emulator, under /__emulator/. Bodies are JSON; a bad request is answered 400 with {\"error\": …}. Answers that push include what was pushed (the ticket, the auth code).",
        },
        "tags": [{ "name": "emulator", "description": "Controls of the emulator." }],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "responses": {
                "BadRequest": { "description": "The request was refused.", "content": json_content(refusal) }
            },
        },
    })
}
