//! Specs to Rust: typify for the types, quote for endpoints and methods,
//! prettyplease for the layout. The output depends on nothing but the specs.
//!
//! A group file holds, in this order: `types`, `endpoints`, then per handle
//! the group's calls: a `{Handle}{Group}` struct with one three-line method
//! per endpoint and the accessor that hands it out (`suite.oauth()`), or,
//! for a `flat` group, the methods on the handle itself.

use std::collections::{BTreeMap, BTreeSet};

use heck::ToUpperCamelCase;
use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote};
use serde_json::Value;

use crate::error::SpecError;
use crate::load::LoadedSpec;
use crate::names::{static_ident, type_ident};
use crate::spec::{
    AppKind, Endpoint, HandleKind, HttpMethod, JsonType, ResponseFormat, SpecFile, SpecSchema, TokenKind,
    UnionContent,
};
use crate::types::{self, GroupTypes};
use crate::validate::{handle_of, resolve, Index};

pub(crate) use crate::tokens::format;

/// One output file: its name inside the output directory and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedFile {
    /// File name, e.g. `suite.rs`.
    pub name: String,
    /// The file's text: formatted Rust source, or JSON for `openapi.json`.
    pub contents: String,
}

/// Generates `mod.rs`, one `<group>.rs` per spec, `conformance.rs` (the
/// test table), `dispatch.rs` (every endpoint callable by name with JSON,
/// for the CLI's `call`) and `openapi.json` (the OpenAPI 3.1 document of
/// every endpoint, see [`crate::openapi`]), sorted by name. The specs must have passed
/// [`crate::validate::check_all`].
pub fn generate(specs: &[LoadedSpec]) -> Result<Vec<GeneratedFile>, SpecError> {
    let index: Index<'_> = specs.iter().map(|l| (l.file.as_str(), &l.spec)).collect();
    let mut groups = BTreeMap::new();
    for loaded in specs {
        groups.insert(loaded.file.clone(), types::typify_group(&index, &loaded.file)?);
    }
    let built = built_types(&index, &groups);
    let roots = root_docs(&index);
    let mut examples = BTreeMap::new();
    for loaded in specs {
        for handle in handles_of(&loaded.spec) {
            let example = accessor_example(&index, &groups, &loaded.file, handle);
            examples.insert((loaded.file.clone(), handle), example);
        }
    }
    let mut files = Vec::new();
    for loaded in specs {
        let group = groups.remove(&loaded.file).expect("typified above");
        let finish =
            types::Finish { built: &built, roots: roots.get(&loaded.file).cloned().unwrap_or_default() };
        let types = types::finish(group, &finish);
        let contents = group_file(&loaded.file, &loaded.spec, types, &index, &examples);
        files.push(GeneratedFile { name: format!("{}.rs", loaded.spec.group), contents });
    }
    files.push(GeneratedFile { name: "mod.rs".into(), contents: mod_file(specs) });
    files.push(GeneratedFile {
        name: "conformance.rs".into(),
        contents: crate::conformance::conformance_file(specs),
    });
    files.push(GeneratedFile { name: "dispatch.rs".into(), contents: crate::dispatch::dispatch_file(specs) });
    files.push(GeneratedFile { name: "openapi.json".into(), contents: crate::openapi::openapi_json(specs) });
    files.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(files)
}

/// The handles a group has endpoints on, in order.
pub(crate) fn handles_of(spec: &SpecFile) -> BTreeSet<HandleKind> {
    spec.endpoints.iter().filter_map(handle_of).collect()
}

/// Every type users build: reachable from a request or a query, across files.
fn built_types(index: &Index<'_>, groups: &BTreeMap<String, GroupTypes>) -> BTreeSet<(String, String)> {
    let mut todo = Vec::new();
    for (file, spec) in index {
        for e in &spec.endpoints {
            for schema in [&e.query, &e.request].into_iter().flatten() {
                if let Some((owner, name, _)) = resolve(index, file, schema) {
                    todo.push((owner.to_owned(), name.to_owned()));
                }
            }
        }
    }
    let mut seen = BTreeSet::new();
    while let Some((file, name)) = todo.pop() {
        if !seen.insert((file.clone(), name.clone())) {
            continue;
        }
        let Some(group) = groups.get(&file) else { continue };
        for word in group.edges.get(&name).into_iter().flatten() {
            match group.imports.get(word) {
                Some((owner, _)) => todo.push((owner.clone(), word.clone())),
                None => todo.push((file.clone(), word.clone())),
            }
        }
    }
    seen
}

/// The name of a group's call struct on `handle`: `SuiteOauth`.
pub(crate) fn calls_ident(spec: &SpecFile, handle: HandleKind) -> Ident {
    format_ident!("{}{}", handle_ident(handle), spec.group.to_upper_camel_case())
}

/// How a method is named in docs: `SuiteOauth::x` (path from the group
/// module) or, for a flat group, `Suite::x` (`crate::Suite::x`).
fn method_link(spec: &SpecFile, e: &Endpoint) -> (String, String) {
    let handle = handle_of(e).expect("validated: every endpoint has a handle");
    if spec.flat {
        let h = handle_ident(handle);
        (format!("{h}::{}", e.name), format!("crate::{h}::{}", e.name))
    } else {
        let calls = calls_ident(spec, handle);
        (format!("{calls}::{}", e.name), format!("super::{calls}::{}", e.name))
    }
}

/// Request, query and response types say which calls use them (only the
/// types of the endpoint's own file: a shared type is not tied to one call).
fn root_docs(index: &Index<'_>) -> BTreeMap<String, BTreeMap<String, Vec<String>>> {
    let mut out: BTreeMap<String, BTreeMap<String, Vec<String>>> = BTreeMap::new();
    for (file, spec) in index {
        for e in &spec.endpoints {
            let response = Some(e.response.clone());
            for (role, schema) in
                [("Query parameters", &e.query), ("Request body", &e.request), ("Reply", &response)]
            {
                let Some((owner, name, _)) = schema.as_ref().and_then(|s| resolve(index, file, s)) else {
                    continue;
                };
                if owner != *file {
                    continue;
                }
                let (text, target) = method_link(spec, e);
                let line = format!(
                    " {role} of [`{text}`]({target}) (`{verb} {path}`, token: {token}; official documentation: <{doc}>).",
                    verb = e.method.as_str(),
                    path = e.path,
                    token = token_name(e.token),
                    doc = e.doc,
                );
                out.entry(file.to_string()).or_default().entry(name.to_owned()).or_default().push(line);
            }
        }
    }
    out
}

fn group_file(
    file: &str,
    spec: &SpecFile,
    types: TokenStream,
    index: &Index<'_>,
    examples: &BTreeMap<(String, HandleKind), String>,
) -> String {
    let endpoint_statics =
        spec.endpoints.iter().map(|e| endpoint_static(&spec.group, e, &required_members(index, file, e)));
    let all = spec.endpoints.iter().map(static_ident);
    // Worked out once: the method and the reply's `CursorPage` impl both use it.
    let paging: BTreeMap<&str, CursorPaging> = spec
        .endpoints
        .iter()
        .filter_map(|e| Some((e.name.as_str(), cursor_paging(index, file, e)?)))
        .collect();
    let mut by_handle: BTreeMap<HandleKind, Vec<&Endpoint>> = BTreeMap::new();
    for endpoint in &spec.endpoints {
        let handle = handle_of(endpoint).expect("validated: every endpoint has a handle");
        by_handle.entry(handle).or_default().push(endpoint);
    }
    let calls = by_handle.into_iter().map(|(handle, endpoints)| {
        let h = handle_ident(handle);
        if spec.flat {
            let methods = endpoints.iter().map(|e| method(e, quote!(self)));
            return quote! { impl crate::#h { #(#methods)* } };
        }
        let methods: Vec<TokenStream> = endpoints
            .iter()
            .map(|e| {
                let call = method(e, quote!(self.handle));
                let pages = paging.get(e.name.as_str()).map(|paging| pages_method(e, paging));
                quote!(#call #pages)
            })
            .collect();
        let calls = calls_ident(spec, handle);
        let accessor = Ident::new(spec.accessor_name(), Span::call_site());
        let handle_name = handle_ident(handle).to_string();
        let mut struct_docs = doc_lines(&format!(
            "The `{group}` calls made through a [`{handle_name}`](crate::{handle_name}): {summary}\n\n\
             Get one with [`{handle_name}::{accessor}`](crate::{handle_name}::{accessor}); it borrows the \
             handle, so it costs nothing to make.",
            group = spec.group,
            summary = lowercase_first(&spec.summary),
        ));
        struct_docs.push(String::new());
        struct_docs.extend(doc_lines(&examples[&(file.to_owned(), handle)]));
        let accessor_docs = doc_lines(&format!(
            "The `{group}` calls: {summary}\n\nSee [`{calls}`] for the calls and an example.",
            group = spec.group,
            summary = lowercase_first(&spec.summary),
        ));
        let handle_doc = format!(" The [`{handle_name}`](crate::{handle_name}) the calls go through.");
        quote! {
            #(#[doc = #struct_docs])*
            #[derive(Clone, Copy, Debug)]
            pub struct #calls<'a> {
                handle: &'a crate::#h,
            }

            impl<'a> #calls<'a> {
                #[doc = #handle_doc]
                pub fn handle(&self) -> &'a crate::#h {
                    self.handle
                }

                #(#methods)*
            }

            impl crate::#h {
                #(#[doc = #accessor_docs])*
                pub fn #accessor(&self) -> #calls<'_> {
                    #calls { handle: self }
                }
            }
        }
    });
    let mut paged = BTreeSet::new();
    let page_impls: Vec<TokenStream> = spec
        .endpoints
        .iter()
        .filter(|_| !spec.flat)
        .filter_map(|e| paging.get(e.name.as_str()))
        .filter(|paging| paging.local_reply && paged.insert(paging.reply.to_string()))
        .map(|paging| {
            let reply = &paging.reply;
            quote! {
                impl crate::CursorPage for #reply {
                    fn next_cursor(&self) -> Option<&str> {
                        self.next_cursor.as_deref()
                    }
                }
            }
        })
        .collect();
    let tokens = quote! {
        /// Request and response types of this group.
        pub mod types {
            #types

            #(#page_impls)*
        }

        /// Descriptors of this group's endpoints, as the runtime and the CLI see them.
        pub mod endpoints {
            #(#endpoint_statics)*

            /// Every endpoint of this group, in spec order.
            pub static ALL: &[&crate::Endpoint] = &[#(&#all),*];
        }

        #(#calls)*
    };
    format(tokens, &format!("spec/{file}"))
}

fn token_name(token: TokenKind) -> &'static str {
    match token {
        TokenKind::Provider => "provider",
        TokenKind::Suite => "suite",
        TokenKind::Corp => "corp",
        TokenKind::Registration => "registration",
        TokenKind::None => "none",
    }
}

/// A summary as the rest of a sentence: first letter lowercase (unless an
/// acronym), ending with a period.
fn lowercase_first(text: &str) -> String {
    let text = text.trim_end();
    let text = if text.ends_with('.') { text.to_owned() } else { format!("{text}.") };
    let mut chars = text.chars();
    match chars.next() {
        Some(c)
            if c.is_ascii_uppercase() && !chars.clone().next().is_some_and(|n| n.is_ascii_uppercase()) =>
        {
            c.to_ascii_lowercase().to_string() + chars.as_str()
        }
        _ => text,
    }
}

pub(crate) fn handle_ident(handle: HandleKind) -> Ident {
    match handle {
        HandleKind::Provider => format_ident!("Provider"),
        HandleKind::Suite => format_ident!("Suite"),
        HandleKind::Corp => format_ident!("Corp"),
    }
}

/// Top-level members the request body or query must carry.
fn required_members(index: &Index<'_>, file: &str, e: &Endpoint) -> Vec<String> {
    let mut out = Vec::new();
    for schema in [&e.query, &e.request].into_iter().flatten() {
        let Some((owner, _, def)) = resolve(index, file, schema) else { continue };
        for key in def.required.iter().flatten() {
            let prop = def.properties.as_ref().and_then(|p| p.get(key));
            match prop.filter(|p| p.flatten).and_then(|p| resolve(index, owner, p)) {
                // A flattened union's members sit beside the others: its tag is required.
                Some((_, _, union)) => out.extend(union.tag.clone()),
                None => out.push(key.clone()),
            }
        }
    }
    out
}

fn endpoint_static(group: &str, e: &Endpoint, required: &[String]) -> TokenStream {
    let ident = static_ident(e);
    let name = &e.name;
    let summary = &e.summary;
    let doc = &e.doc;
    let path = &e.path;
    let method = match e.method {
        HttpMethod::Get => quote!(crate::HttpMethod::Get),
        HttpMethod::Post => quote!(crate::HttpMethod::Post),
    };
    let token = match e.token {
        TokenKind::Provider => quote!(crate::TokenKind::Provider),
        TokenKind::Suite => quote!(crate::TokenKind::Suite),
        TokenKind::Corp => quote!(crate::TokenKind::Corp),
        TokenKind::Registration => quote!(crate::TokenKind::Registration),
        TokenKind::None => quote!(crate::TokenKind::None),
    };
    let token_param = match e.token_param_name() {
        Some(p) => quote!(Some(#p)),
        None => quote!(None),
    };
    let format = match e.response_format {
        ResponseFormat::Json => quote!(crate::ResponseFormat::Json),
        ResponseFormat::JsonOrBinary => quote!(crate::ResponseFormat::JsonOrBinary),
        ResponseFormat::Download => quote!(crate::ResponseFormat::Download),
    };
    let upload = match &e.upload {
        Some(u) => {
            let field = &u.field;
            let (min, max) = (u.min_bytes, u.max_bytes);
            let limit_by = match &u.limit_by {
                Some(param) => quote!(Some(#param)),
                None => quote!(None),
            };
            let limits = u.limits.iter().map(|(value, limit)| quote!((#value, #limit)));
            quote!(Some(crate::UploadRule {
                field: #field,
                min_bytes: #min,
                max_bytes: #max,
                limit_by: #limit_by,
                limits: &[#(#limits),*],
            }))
        }
        None => quote!(None),
    };
    let legacy_paths = &e.legacy_paths;
    let example = serde_json::to_string(&e.example.response).expect("JSON values always serialize");
    let retry_safe = e.is_retry_safe();
    let app_kinds = e.allowed_app_kinds().into_iter().map(|kind| match kind {
        AppKind::ThirdParty => quote!(crate::AppKind::ThirdParty),
        AppKind::Customized => quote!(crate::AppKind::Customized),
    });
    let line = format!(" `{} {}`: {}", e.method.as_str(), e.path, e.summary);
    quote! {
        #[doc = #line]
        pub static #ident: crate::Endpoint = crate::Endpoint {
            group: #group,
            name: #name,
            summary: #summary,
            doc: #doc,
            method: #method,
            path: #path,
            token: #token,
            token_param: #token_param,
            response_format: #format,
            upload: #upload,
            legacy_paths: &[#(#legacy_paths),*],
            retry_safe: #retry_safe,
            app_kinds: &[#(#app_kinds),*],
            required: &[#(#required),*],
            example_response: #example,
        };
    }
}

fn token_sentence(e: &Endpoint) -> String {
    let param = e.token_param_name();
    match (e.token, param) {
        (TokenKind::None, _) | (_, None) => "Carries no access token: this call obtains one.".into(),
        (TokenKind::Provider, Some(p)) => {
            format!("Token: the provider access token, as `{p}` on the URL.")
        }
        (TokenKind::Suite, Some(p)) => {
            format!("Token: the suite access token, as `{p}` on the URL.")
        }
        (TokenKind::Corp, Some(p)) => {
            format!("Token: the authorizing corp's access token, as `{p}` on the URL.")
        }
        (TokenKind::Registration, Some(p)) => format!(
            "Token: `access_token`, the registered corp's one-time token from the `register_corp` \
             callback or `get_register_info` (`contact_sync.access_token`), passed by the caller as `{p}` on the URL."
        ),
    }
}

fn app_kinds_sentence(e: &Endpoint) -> Option<String> {
    let kinds = e.allowed_app_kinds();
    if kinds.len() == AppKind::ALL.len() {
        return None;
    }
    let names: Vec<&str> = kinds
        .iter()
        .map(|k| match k {
            AppKind::ThirdParty => "third-party apps",
            AppKind::Customized => "代开发 (customized) apps",
        })
        .collect();
    Some(format!(
        " Only for {}: through a suite configured as another kind, the call is refused before \
         it is sent ([`crate::Error::AppKindNotAllowed`]).",
        names.join(" and ")
    ))
}

pub(crate) fn doc_lines(text: &str) -> Vec<String> {
    text.trim_end().lines().map(|l| format!(" {l}").trim_end().to_owned()).collect()
}

/// One typed method: docs, then one call through `receiver` (the handle).
/// How a cursor-paged list endpoint pages: its input type (request body or
/// query) has an optional `cursor`, its reply a `next_cursor`.
struct CursorPaging {
    /// The type that carries `cursor`.
    input: Ident,
    /// Whether `input` is the query (else the request body).
    in_query: bool,
    /// The reply type.
    reply: Ident,
    /// Whether the reply type is defined in this group (it then gets the
    /// `CursorPage` impl here).
    local_reply: bool,
}

fn cursor_paging(index: &Index<'_>, file: &str, e: &Endpoint) -> Option<CursorPaging> {
    let other_shape =
        e.upload.is_some() || e.response_format != ResponseFormat::Json || e.token == TokenKind::Registration;
    if other_shape || e.pages == Some(false) {
        return None;
    }
    let has_optional_string = |schema: &SpecSchema, key: &str| {
        let (_, _, def) = resolve(index, file, schema)?;
        let prop = def.properties.as_ref()?.get(key)?;
        let optional = !def.required.iter().flatten().any(|r| r == key);
        (prop.ty == Some(JsonType::String) && optional).then_some(())
    };
    let (input, in_query) = match (&e.request, &e.query) {
        (Some(request), _) if has_optional_string(request, "cursor").is_some() => (request, false),
        (None, Some(query)) if has_optional_string(query, "cursor").is_some() => (query, true),
        _ => return None,
    };
    let reply = resolve(index, file, &e.response)?.2;
    let next = reply.properties.as_ref()?.get("next_cursor")?;
    if next.ty != Some(JsonType::String) {
        return None;
    }
    Some(CursorPaging {
        input: type_ident(input),
        in_query,
        reply: type_ident(&e.response),
        local_reply: e.response.ref_target().is_some_and(|(f, _)| f.is_none()),
    })
}

/// `{name}_pages`: every page of a cursor-paged list, as a stream.
fn pages_method(e: &Endpoint, paging: &CursorPaging) -> TokenStream {
    let name = Ident::new(&e.name, Span::call_site());
    let pages = format_ident!("{}_pages", e.name);
    let (input, reply) = (&paging.input, &paging.reply);
    let docs = [
        format!(
            " Every page of [`Self::{}`], as a stream: `{}` is the first page's",
            e.name,
            if paging.in_query { "query" } else { "request" }
        ),
        " filters and limit; each following page repeats it with the previous page's".to_owned(),
        " `next_cursor`. The stream ends after the last page or the first error.".to_owned(),
    ];
    quote! {
        #(#[doc = #docs])*
        pub fn #pages(
            &self,
            input: types::#input,
        ) -> impl ::futures_util::Stream<Item = Result<types::#reply, crate::Error>> + '_ {
            crate::cursor_pages(move |cursor| {
                let input = match cursor {
                    Some(cursor) => input.clone().cursor(cursor),
                    None => input.clone(),
                };
                async move { self.#name(&input).await }
            })
        }
    }
}

fn method(e: &Endpoint, receiver: TokenStream) -> TokenStream {
    let name = Ident::new(&e.name, Span::call_site());
    let endpoint = static_ident(e);
    let response = type_ident(&e.response);
    let mut docs = doc_lines(&e.summary);
    if let Some(description) = &e.description {
        docs.push(String::new());
        docs.extend(doc_lines(description));
    }
    docs.push(String::new());
    docs.push(format!(" Sends `{} {}`. {}", e.method.as_str(), e.path, token_sentence(e)));
    if let Some(sentence) = app_kinds_sentence(e) {
        docs.push(String::new());
        docs.push(sentence);
    }
    docs.push(String::new());
    docs.push(format!(" Official documentation: <{}>", e.doc));
    let mut params = Vec::new();
    if e.token == TokenKind::Registration {
        params.push(quote!(access_token: &str));
    }
    let query_arg = match &e.query {
        Some(schema) => {
            let ty = type_ident(schema);
            params.push(quote!(query: &types::#ty));
            quote!(Some(query))
        }
        None => quote!(None::<&()>),
    };
    let body_arg = match &e.request {
        Some(schema) => {
            let ty = type_ident(schema);
            params.push(quote!(request: &types::#ty));
            quote!(Some(request))
        }
        None => quote!(None::<&()>),
    };
    if let Some(upload) = &e.upload {
        params.push(quote!(file: crate::UploadFile));
        docs.push(String::new());
        docs.push(format!(
            " Sends `file` as `multipart/form-data` (field `{}`); a file of the wrong size is refused \
             before sending, with [`crate::Error::UploadSize`].",
            upload.field
        ));
        return quote! {
            #(#[doc = #docs])*
            pub async fn #name(&self, #(#params),*) -> Result<types::#response, crate::Error> {
                #receiver.call_upload(&endpoints::#endpoint, #query_arg, file).await
            }
        };
    }
    if e.token == TokenKind::Registration {
        return quote! {
            #(#[doc = #docs])*
            pub async fn #name(&self, #(#params),*) -> Result<types::#response, crate::Error> {
                #receiver.call_with_token(&endpoints::#endpoint, access_token, #query_arg, #body_arg).await
            }
        };
    }
    let (ret, decode) = match e.response_format {
        ResponseFormat::Download => {
            docs.push(String::new());
            docs.push(
                " Returns the file as a [`crate::Download`], read as it arrives; a JSON body in its \
                 place is WeCom's error."
                    .into(),
            );
            (quote!(crate::Download), quote!(decode_download))
        }
        ResponseFormat::Json => (quote!(types::#response), quote!(decode_json)),
        ResponseFormat::JsonOrBinary => {
            docs.push(String::new());
            docs.push(
                " Returns [`crate::Payload::Binary`] when WeCom answers with content other than JSON.".into(),
            );
            (quote!(crate::Payload<types::#response>), quote!(decode_payload))
        }
    };
    quote! {
        #(#[doc = #docs])*
        pub async fn #name(&self, #(#params),*) -> Result<#ret, crate::Error> {
            #receiver.call(&endpoints::#endpoint, #query_arg, #body_arg, crate::http::#decode).await
        }
    }
}

// ---------------------------------------------------------------- examples

/// A `no_run` example for a group's call struct: the first call on that
/// handle, its parameters built from the spec's example.
fn accessor_example(
    index: &Index<'_>,
    groups: &BTreeMap<String, GroupTypes>,
    file: &str,
    handle: HandleKind,
) -> String {
    let spec = index[file];
    let var = handle_ident(handle).to_string().to_ascii_lowercase();
    let h = handle_ident(handle);
    let accessor = spec.accessor_name();
    let mut used = BTreeSet::new();
    let call = spec.endpoints.iter().filter(|e| handle_of(e) == Some(handle)).find_map(|e| {
        let mut args = Vec::new();
        for (schema, value) in [(&e.query, &e.example.query), (&e.request, &e.example.request)] {
            let Some(schema) = schema else { continue };
            let (owner, name, def) = resolve(index, file, schema)?;
            args.push(format!(
                "&{}",
                build_expr(index, groups, owner, name, def, value.as_ref()?, &mut used)?
            ));
        }
        if e.upload.is_some() {
            args.push("wecom_openwork::UploadFile::from_path(\"report.pdf\").await?".to_owned());
        }
        if e.token == TokenKind::Registration {
            args.insert(0, "\"REGISTRATION_ACCESS_TOKEN\"".to_owned());
        }
        Some(format!("{var}.{accessor}().{}({})", e.name, args.join(", ")))
    });
    let mut text = format!(
        "```no_run\n# async fn example({var}: wecom_openwork::{h}) -> Result<(), wecom_openwork::Error> {{\n"
    );
    match call {
        Some(call) => {
            if !used.is_empty() {
                let names: Vec<&str> = used.iter().map(String::as_str).collect();
                let list =
                    if names.len() == 1 { names[0].to_owned() } else { format!("{{{}}}", names.join(", ")) };
                text.push_str(&format!("use wecom_openwork::api::{}::types::{list};\n\n", spec.group));
            }
            text.push_str(&format!("let reply = {call}.await?;\nprintln!(\"{{reply:?}}\");\n"));
        }
        None => text.push_str(&format!("let calls = {var}.{accessor}();\n# let _ = calls;\n")),
    }
    text.push_str("# Ok(())\n# }\n```");
    text
}

/// Rust that builds `value` as the struct `name` (defined in `file`) with
/// its constructor: the required fields, from the spec's example.
fn build_expr(
    index: &Index<'_>,
    groups: &BTreeMap<String, GroupTypes>,
    file: &str,
    name: &str,
    schema: &SpecSchema,
    value: &Value,
    used: &mut BTreeSet<String>,
) -> Option<String> {
    if schema.is_union() {
        return union_expr(index, groups, file, name, schema, value, used);
    }
    let props = schema.properties.as_ref();
    let required: BTreeSet<&str> = schema.required.iter().flatten().map(String::as_str).collect();
    let mut args = Vec::new();
    for (key, prop) in props.into_iter().flatten() {
        if !required.contains(key.as_str()) {
            continue;
        }
        // A flattened union reads its members from this very object.
        let member = if prop.flatten { value } else { value.get(key)? };
        args.push(value_expr(index, groups, file, name, key, prop, member, used, false)?);
    }
    used.insert(name.to_owned());
    Some(format!("{name}::new({})", args.join(", ")))
}

/// Rust that builds `value` as the union `name`: the variant its tag names.
fn union_expr(
    index: &Index<'_>,
    groups: &BTreeMap<String, GroupTypes>,
    file: &str,
    name: &str,
    union: &SpecSchema,
    value: &Value,
    used: &mut BTreeSet<String>,
) -> Option<String> {
    let tag = value.get(union.tag.as_deref()?)?.as_str()?;
    let variant = union.variants.as_ref()?.get(tag)?;
    let (owner, content, def) = resolve(index, file, variant)?;
    let ident = crate::names::variant_ident(tag);
    used.insert(name.to_owned());
    Some(match union.content? {
        UnionContent::Keyed => {
            let inner = build_expr(index, groups, owner, content, def, value.get(tag)?, used)?;
            format!("{name}::{ident} {{ {}: {inner} }}", crate::names::member_ident(tag))
        }
        UnionContent::Inline => {
            let inner = build_expr(index, groups, owner, content, def, value, used)?;
            format!("{name}::{ident}({inner})")
        }
    })
}

#[allow(clippy::too_many_arguments)]
fn value_expr(
    index: &Index<'_>,
    groups: &BTreeMap<String, GroupTypes>,
    file: &str,
    parent: &str,
    key: &str,
    prop: &SpecSchema,
    value: &Value,
    used: &mut BTreeSet<String>,
    owned: bool,
) -> Option<String> {
    if prop.reference.is_some() {
        let (owner, name, def) = resolve(index, file, prop)?;
        return build_expr(index, groups, owner, name, def, value, used);
    }
    match (prop.ty?, value) {
        (JsonType::String, Value::String(s)) => {
            Some(if owned { format!("{s:?}.to_owned()") } else { format!("{s:?}") })
        }
        (JsonType::Integer | JsonType::Number | JsonType::Boolean, v) => Some(v.to_string()),
        (JsonType::Array, Value::Array(items)) => {
            let item_schema = prop.items.as_deref()?;
            let parts = items
                .iter()
                .map(|item| value_expr(index, groups, file, parent, key, item_schema, item, used, true))
                .collect::<Option<Vec<_>>>()?;
            Some(format!("vec![{}]", parts.join(", ")))
        }
        (JsonType::Object, _) if prop.properties.is_some() => {
            let nested = groups.get(file)?.nested.get(&(parent.to_owned(), key.to_owned()))?;
            build_expr(index, groups, file, nested, prop, value, used)
        }
        _ => None,
    }
}

// ---------------------------------------------------------------- mod.rs

fn mod_file(specs: &[LoadedSpec]) -> String {
    let modules = specs.iter().map(|loaded| {
        let ident = Ident::new(&loaded.spec.group, Span::call_site());
        let file = format!("{}.rs", loaded.spec.group);
        let docs = doc_lines(&loaded.spec.summary);
        let source = format!(" Generated from `spec/{}`.", loaded.file);
        quote! {
            #(#[doc = #docs])*
            ///
            #[doc = #source]
            pub mod #ident {
                include!(#file);
            }
        }
    });
    let all = specs.iter().flat_map(|loaded| {
        let group = Ident::new(&loaded.spec.group, Span::call_site());
        loaded.spec.endpoints.iter().map(move |e| {
            let ident = static_ident(e);
            quote!(&#group::endpoints::#ident)
        })
    });
    let tokens = quote! {
        #(#modules)*

        /// Every spec'd endpoint: groups in spec-file order, endpoints in spec order.
        pub static ENDPOINTS: &[&crate::Endpoint] = &[#(#all),*];
    };
    format(tokens, "spec/")
}
