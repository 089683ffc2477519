//! Cursor-paged lists: which endpoints page, and their `{name}_pages` streams.

use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

use crate::names::type_ident;
use crate::spec::{Endpoint, JsonType, ResponseFormat, SpecSchema, TokenKind};
use crate::validate::{resolve, Index};

/// How a cursor-paged list endpoint pages: its input type (request body or
/// query) has an optional `cursor`, its reply a `next_cursor`.
pub(super) struct CursorPaging {
    /// The type that carries `cursor`.
    pub(super) input: Ident,
    /// Whether `input` is the query (else the request body).
    pub(super) in_query: bool,
    /// The reply type.
    pub(super) reply: Ident,
    /// Whether the reply type is defined in this group (it then gets the
    /// `CursorPage` impl here).
    pub(super) local_reply: bool,
    /// Whether the reply says `has_more`: then `has_more: 0` ends the list
    /// even though a `next_cursor` comes back (where the next read starts).
    pub(super) has_more: bool,
}

/// How `e` pages, if it is a cursor-paged list the spec does not opt out of.
pub(super) fn cursor_paging(index: &Index<'_>, file: &str, e: &Endpoint) -> Option<CursorPaging> {
    let other_shape =
        e.upload.is_some() || e.response_format != ResponseFormat::Json || e.token == TokenKind::Registration;
    if other_shape || e.pages == Some(false) {
        return None;
    }
    let has_optional_string = |schema: &SpecSchema, key: &str| {
        let (_, _, def) = resolve(index, file, schema)?;
        let prop = def.properties.as_ref()?.get(key)?;
        let optional = !def.required.iter().flatten().any(|r| r == key);
        // A fixed cursor has no setter to page with.
        (prop.ty == Some(JsonType::String) && optional && prop.constant.is_none()).then_some(())
    };
    let (input, in_query) = match (&e.request, &e.query) {
        (Some(request), _) if has_optional_string(request, "cursor").is_some() => (request, false),
        (None, Some(query)) if has_optional_string(query, "cursor").is_some() => (query, true),
        _ => return None,
    };
    let reply = resolve(index, file, &e.response)?.2;
    let reply_props = reply.properties.as_ref()?;
    if reply_props.get("next_cursor")?.ty != Some(JsonType::String) {
        return None;
    }
    let has_more = reply_props.get("has_more").is_some_and(|p| p.ty == Some(JsonType::Integer));
    Some(CursorPaging {
        input: type_ident(input),
        in_query,
        reply: type_ident(&e.response),
        local_reply: e.response.ref_target().is_some_and(|(f, _)| f.is_none()),
        has_more,
    })
}

/// `{name}_pages`: every page of a cursor-paged list, as a stream.
pub(super) fn pages_method(e: &Endpoint, paging: &CursorPaging) -> TokenStream {
    let with = format_ident!("{}_with", e.name);
    let pages = format_ident!("{}_pages", e.name);
    let (input, reply) = (&paging.input, &paging.reply);
    let mut docs = vec![
        format!(
            " Every page of [`Self::{}`], as a stream: `{}` is the first page's",
            e.name,
            if paging.in_query { "query" } else { "request" }
        ),
        " filters and limit; each following page repeats it with the previous page's".to_owned(),
        " `next_cursor`. The stream ends after the last page or the first error.".to_owned(),
    ];
    if paging.has_more {
        docs.push(" The last page is the one with `has_more: 0`; keep its `next_cursor` to".to_owned());
        docs.push(" start the next read there.".to_owned());
    }
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
                async move { self.#with(input).await }
            })
        }
    }
}

/// The reply's `CursorPage` impl: where its next page starts, if it has one.
pub(super) fn cursor_page_impl(paging: &CursorPaging) -> TokenStream {
    let reply = &paging.reply;
    let more = paging.has_more.then(|| {
        quote! {
            if self.has_more == Some(0) {
                return None;
            }
        }
    });
    quote! {
        impl crate::CursorPage for #reply {
            fn next_cursor(&self) -> Option<&str> {
                #more
                self.next_cursor.as_deref()
            }
        }
    }
}
