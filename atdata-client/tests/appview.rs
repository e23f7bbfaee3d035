//! `app.bsky.*` calls on the wire. The reference PDS has no AppView behind it (it answers
//! `InvalidRequest: No service configured for app.bsky…`, checked at the end against the real
//! one), so the requests are checked against a small LOCAL RESPONDER (`fake_server`) that
//! records what arrives and answers with bodies shaped as the AppView's, written here from the
//! lexicons: query strings (arrays as repeated keys), procedure bodies with `$type`d union
//! members, the proxy header, and typed decoding of views with embeds and union reasons.

#![cfg(all(feature = "http", feature = "app-bsky"))]

mod fake_server;
mod pds_harness;

use std::sync::{Arc, Mutex};

use atdata_client::app::bsky::actor::defs::{AdultContentPref, PreferencesItem, SavedFeedsPrefV2};
use atdata_client::app::bsky::actor::{GetPreferences, GetProfile, PutPreferences};
use atdata_client::app::bsky::feed::defs::{FeedViewPostReason, PostViewEmbed};
use atdata_client::app::bsky::feed::{post, GetPosts, GetTimeline};
use atdata_client::{CallOptions, Client, Error, Session, XrpcErrorKind};
use atdata_core::{AtIdentifier, AtUri};
use fake_server::{FakeServer, Reply, Request};
use serde_json::json;

const CID: &str = "bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm";
const APPVIEW: &str = "did:web:api.bsky.app#bsky_appview";

fn profile_basic(did: &str, handle: &str) -> serde_json::Value {
    json!({
        "did": did, "handle": handle, "displayName": "Alice",
        "avatar": "https://cdn.example/avatar/plain/did:plc:alice/x@jpeg",
        "viewer": {"muted": false, "blockedBy": false},
        "labels": [], "createdAt": "2023-04-05T06:07:08.000Z"
    })
}

/// A post view as the AppView renders it: the record, an images embed view, counts.
fn post_view(rkey: &str) -> serde_json::Value {
    json!({
        "uri": format!("at://did:plc:alice/app.bsky.feed.post/{rkey}"),
        "cid": CID,
        "author": profile_basic("did:plc:alice", "alice.test"),
        "record": {
            "$type": "app.bsky.feed.post",
            "text": "a photo",
            "createdAt": "2024-01-02T03:04:05.678Z",
            "langs": ["en"],
            "embed": {"$type": "app.bsky.embed.images", "images": [{
                "alt": "a cat",
                "image": {"$type": "blob", "ref": {"$link": "bafkreibme22gw2h7y2h7tg2fhqotaqjucnbc24deqo72b6mkl2egezxhvy"}, "mimeType": "image/jpeg", "size": 1234},
                "aspectRatio": {"width": 4, "height": 3}
            }]}
        },
        "embed": {"$type": "app.bsky.embed.images#view", "images": [{
            "thumb": "https://cdn.example/thumb.jpg", "fullsize": "https://cdn.example/full.jpg",
            "alt": "a cat", "aspectRatio": {"width": 4, "height": 3}
        }]},
        "replyCount": 1, "repostCount": 2, "likeCount": 3, "quoteCount": 0,
        "indexedAt": "2024-01-02T03:04:06.000Z",
        "viewer": {"threadMuted": false, "embeddingDisabled": false},
        "labels": []
    })
}

/// The responder: records every request, answers by NSID.
fn responder() -> (
    Arc<Mutex<Vec<Request>>>,
    impl Fn(Request) -> Reply + Send + Sync,
) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    (seen, move |request: Request| {
        let nsid = request.nsid().to_owned();
        log.lock().expect("lock").push(request);
        match nsid.as_str() {
            "app.bsky.feed.getTimeline" => Reply::json(
                200,
                json!({
                    "cursor": "next-page",
                    "feed": [
                        {"post": post_view("3kaaaaaaaaa22")},
                        {"post": post_view("3kaaaaaaaaa23"),
                         "reason": {"$type": "app.bsky.feed.defs#reasonRepost",
                                    "by": profile_basic("did:plc:bob", "bob.test"),
                                    "indexedAt": "2024-01-02T04:00:00.000Z"},
                         "feedContext": "ctx"},
                        {"post": post_view("3kaaaaaaaaa24"),
                         "reason": {"$type": "app.bsky.feed.defs#reasonFromTheFuture", "x": 1}}
                    ]
                }),
            ),
            "app.bsky.feed.getPosts" => Reply::json(
                200,
                json!({"posts": [post_view("3kaaaaaaaaa22"), post_view("3kaaaaaaaaa23")]}),
            ),
            "app.bsky.actor.getProfile" => Reply::json(
                200,
                json!({
                    "did": "did:plc:alice", "handle": "alice.test", "displayName": "Alice",
                    "description": "hi", "followersCount": 10, "followsCount": 20,
                    "postsCount": 30, "indexedAt": "2024-01-01T00:00:00.000Z",
                    "viewer": {"muted": false, "following": "at://did:plc:me/app.bsky.graph.follow/3kabc"}
                }),
            ),
            "app.bsky.actor.getPreferences" => Reply::json(
                200,
                json!({"preferences": [
                    {"$type": "app.bsky.actor.defs#adultContentPref", "enabled": false},
                    {"$type": "app.bsky.actor.defs#somethingNew", "on": true}
                ]}),
            ),
            // putPreferences answers with no body, as the AppView does.
            "app.bsky.actor.putPreferences" => Reply::raw(200, "application/json", Vec::new()),
            _ => Reply::error(400, "InvalidRequest", "not in this responder"),
        }
    })
}

/// A client logged in (without a server round trip) that proxies to the AppView by default, as
/// a Bluesky app does.
fn client(server: &FakeServer) -> Client {
    Client::builder()
        .service(&server.url)
        .session(Session::new(
            "did:plc:me".parse().expect("did"),
            "me.test".parse().expect("handle"),
            "ACCESS".into(),
            "REFRESH".into(),
        ))
        .call_options(CallOptions::new().proxy(APPVIEW))
        .build()
        .expect("client")
}

/// The query string's pairs, percent-decoded, in order.
fn query(request: &Request) -> Vec<(String, String)> {
    let Some((_, query)) = request.target.split_once('?') else {
        return Vec::new();
    };
    let decode = |s: &str| {
        let bytes = s.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'%' if i + 2 < bytes.len() => {
                    let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).expect("hex");
                    out.push(u8::from_str_radix(hex, 16).expect("hex"));
                    i += 3;
                }
                b'+' => {
                    out.push(b' ');
                    i += 1;
                }
                b => {
                    out.push(b);
                    i += 1;
                }
            }
        }
        String::from_utf8(out).expect("utf-8")
    };
    query
        .split('&')
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = expected
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    pairs.sort();
    pairs
}

#[tokio::test]
async fn get_timeline_sends_its_parameters_and_decodes_views_and_reasons() {
    let (seen, handler) = responder();
    let server = FakeServer::start(handler).await;
    let client = client(&server);
    let timeline = client
        .app
        .bsky
        .feed
        .get_timeline(&GetTimeline::new().limit(3).cursor("page 1/2"))
        .await
        .expect("getTimeline");

    let request = seen.lock().expect("lock")[0].clone();
    assert_eq!(request.method, "GET");
    assert_eq!(request.nsid(), "app.bsky.feed.getTimeline");
    let mut sent = query(&request);
    sent.sort();
    assert_eq!(sent, pairs(&[("cursor", "page 1/2"), ("limit", "3")]));
    assert_eq!(request.header("authorization"), Some("Bearer ACCESS"));
    assert_eq!(request.header("atproto-proxy"), Some(APPVIEW));
    assert!(request.body.is_empty());

    assert_eq!(timeline.cursor.as_deref(), Some("next-page"));
    assert_eq!(timeline.feed.len(), 3);
    let first = &timeline.feed[0];
    assert_eq!(first.post.author.handle.as_str(), "alice.test");
    assert_eq!(first.post.like_count, Some(3));
    match first.post.embed.as_ref().expect("embed") {
        PostViewEmbed::ImagesView(view) => assert_eq!(view.images[0].alt, "a cat"),
        other => panic!("expected an images view, got {other:?}"),
    }
    // The record is kept as a value; it decodes into the post type.
    let record: post::Record = atdata_core::from_value(first.post.record.clone()).expect("a post");
    assert_eq!(record.text, "a photo");
    match timeline.feed[1].reason.as_ref().expect("reason") {
        FeedViewPostReason::ReasonRepost(repost) => {
            assert_eq!(repost.by.handle.as_str(), "bob.test")
        }
        other => panic!("expected a repost reason, got {other:?}"),
    }
    assert_eq!(timeline.feed[1].feed_context.as_deref(), Some("ctx"));
    // A reason this client's lexicons do not know yet is kept, not refused (open union).
    assert!(matches!(
        timeline.feed[2].reason,
        Some(FeedViewPostReason::Unknown(_))
    ));
}

#[tokio::test]
async fn arrays_go_as_repeated_keys_and_per_call_options_override_the_default_proxy() {
    let (seen, handler) = responder();
    let server = FakeServer::start(handler).await;
    let client = client(&server);
    let uris: Vec<AtUri> = ["3kaaaaaaaaa22", "3kaaaaaaaaa23"]
        .iter()
        .map(|rkey| {
            format!("at://did:plc:alice/app.bsky.feed.post/{rkey}")
                .parse()
                .expect("uri")
        })
        .collect();
    let posts = client
        .app
        .bsky
        .feed
        .get_posts(&GetPosts::new(uris.clone()))
        .await
        .expect("getPosts");
    assert_eq!(posts.posts.len(), 2);
    assert_eq!(posts.posts[1].uri, uris[1]);

    let other = "did:web:appview.example#bsky_appview";
    let profile = client
        .send_with(
            &GetProfile::new("alice.test".parse::<AtIdentifier>().expect("handle")),
            &CallOptions::new()
                .proxy(other)
                .accept_labeler("did:plc:labeler", false),
        )
        .await
        .expect("getProfile");
    assert_eq!(profile.followers_count, Some(10));
    assert!(profile.viewer.and_then(|v| v.following).is_some());

    let seen = seen.lock().expect("lock");
    assert_eq!(
        query(&seen[0]),
        vec![
            ("uris".to_owned(), uris[0].to_string()),
            ("uris".to_owned(), uris[1].to_string())
        ]
    );
    assert_eq!(query(&seen[1]), pairs(&[("actor", "alice.test")]));
    assert_eq!(seen[1].header("atproto-proxy"), Some(other));
    assert_eq!(
        seen[1].header("atproto-accept-labelers"),
        Some("did:plc:labeler")
    );
}

#[tokio::test]
async fn preferences_round_trip_with_typed_and_unknown_union_members() {
    let (seen, handler) = responder();
    let server = FakeServer::start(handler).await;
    let client = client(&server);
    let prefs = client
        .app
        .bsky
        .actor
        .get_preferences(&GetPreferences::new())
        .await
        .expect("getPreferences");
    assert!(matches!(
        prefs.preferences[0],
        PreferencesItem::AdultContentPref(ref p) if !p.enabled
    ));
    assert!(matches!(prefs.preferences[1], PreferencesItem::Unknown(_)));

    // Write them back with one more: the unknown member goes back as it came.
    let mut preferences = prefs.preferences.clone();
    preferences.push(PreferencesItem::SavedFeedsPrefV2(Box::new(
        SavedFeedsPrefV2::new(Vec::new()),
    )));
    preferences[0] = PreferencesItem::AdultContentPref(Box::new(AdultContentPref::new(true)));
    client
        .app
        .bsky
        .actor
        .put_preferences(&PutPreferences::new(preferences))
        .await
        .expect("putPreferences");

    let seen = seen.lock().expect("lock");
    let put = &seen[1];
    assert_eq!(put.method, "POST");
    assert_eq!(put.header("content-type"), Some("application/json"));
    let body: serde_json::Value = serde_json::from_slice(&put.body).expect("json body");
    assert_eq!(
        body,
        json!({"preferences": [
            {"$type": "app.bsky.actor.defs#adultContentPref", "enabled": true},
            {"$type": "app.bsky.actor.defs#somethingNew", "on": true},
            {"$type": "app.bsky.actor.defs#savedFeedsPrefV2", "items": []}
        ]})
    );
}

/// The real PDS, for contrast: without an AppView it refuses app.bsky queries with a typed
/// XRPC error, which the client reports as such (not as a transport or decode failure).
#[tokio::test]
async fn the_reference_pds_refuses_app_bsky_without_an_appview() {
    let Some(pds) = pds_harness::pds() else {
        return;
    };
    let (client, account) = pds_harness::new_account(pds).await;
    let refused = client
        .app
        .bsky
        .actor
        .get_profile(&GetProfile::new(account.did.clone()))
        .await
        .expect_err("no AppView");
    match &refused {
        Error::Xrpc {
            status: 400,
            error: Some(XrpcErrorKind::Other(name)),
            message: Some(message),
            ..
        } => {
            assert_eq!(name, "InvalidRequest");
            assert!(message.contains("No service configured"), "{message}");
        }
        other => panic!("expected InvalidRequest, got {other:?}"),
    }
}
