//! Blobs and whole repositories: upload from memory or a file (streamed), download to memory
//! (bounded) or to a file (streamed).
//!
//! ```no_run
//! # async fn run(client: atdata_client::Client) -> Result<(), Box<dyn std::error::Error>> {
//! let blob = client.upload_blob_file("shard-0000.tar", "application/x-tar").await?;
//! // The blob reference drops straight into a record.
//! let record = serde_json::json!({"name": "shard 0", "data": blob});
//! client.create_record("com.example.shard", &record).validate(false).await?;
//!
//! let me = client.me().expect("logged in").did;
//! let bytes = client.get_blob(&me, *blob.cid()).await?;
//! let written = client.get_repo_to_file(&me, "repo.car").await?;
//! # let _ = (bytes, written);
//! # Ok(()) }
//! ```

use std::path::Path;

use atdata_core::xrpc::{QueryParams, XrpcMethod};
use atdata_core::{Blob, Cid, Did};

use crate::client::{Auth, Call};
use crate::com::atproto::repo::upload_blob;
use crate::com::atproto::sync::{get_blob, get_repo};
use crate::transport::{Payload, ReceivedBody, Sink};
use crate::{CallOptions, Client, Error, IntoIdentifier};

impl Client {
    /// Uploads `bytes` as a blob of MIME type `mime_type` (`com.atproto.repo.uploadBlob`). The
    /// returned [`Blob`] goes into a record; a blob no record refers to is removed by the PDS
    /// after a while.
    pub async fn upload_blob(
        &self,
        bytes: impl Into<Vec<u8>>,
        mime_type: &str,
    ) -> Result<Blob, Error<upload_blob::Error>> {
        let payload = Payload::Bytes {
            encoding: mime_type.to_owned(),
            bytes: bytes.into().into(),
        };
        self.upload(payload).await
    }

    /// Uploads the file at `path` as a blob, streaming it from disk (it is never read into
    /// memory whole).
    pub async fn upload_blob_file(
        &self,
        path: impl AsRef<Path>,
        mime_type: &str,
    ) -> Result<Blob, Error<upload_blob::Error>> {
        let payload = Payload::File {
            encoding: mime_type.to_owned(),
            path: path.as_ref().to_owned(),
        };
        self.upload(payload).await
    }

    async fn upload(&self, payload: Payload) -> Result<Blob, Error<upload_blob::Error>> {
        let nsid = upload_blob::NSID;
        let call = Call {
            nsid: nsid.into(),
            method: XrpcMethod::Procedure,
            query: String::new(),
            payload: Some(payload),
            auth: Auth::Session,
            sink: Sink::Memory,
        };
        let received = self
            .perform(&call, &CallOptions::new())
            .await
            .map_err(Error::typed)?;
        let output: upload_blob::Output = Client::decode(nsid, received, |body| {
            atdata_core::runtime::json_output(&body)
        })
        .map_err(Error::typed)?;
        Ok(output.blob)
    }

    /// Downloads the blob `cid` of the account `did` (`com.atproto.sync.getBlob`) into memory,
    /// up to [`ClientBuilder::max_response_size`](crate::ClientBuilder::max_response_size).
    pub async fn get_blob(
        &self,
        did: impl IntoIdentifier<Did>,
        cid: Cid,
    ) -> Result<Vec<u8>, Error<get_blob::Error>> {
        let request = crate::com::atproto::sync::GetBlob::new(did_arg(did)?, cid);
        self.send(&request).await.map(|body| body.bytes)
    }

    /// Downloads the blob `cid` of the account `did` into the file at `path`, streaming;
    /// returns the number of bytes written.
    pub async fn get_blob_to_file(
        &self,
        did: impl IntoIdentifier<Did>,
        cid: Cid,
        path: impl AsRef<Path>,
    ) -> Result<u64, Error<get_blob::Error>> {
        let request = crate::com::atproto::sync::GetBlob::new(did_arg(did)?, cid);
        self.download(&request, path.as_ref()).await
    }

    /// Exports the repository of `did` as a CAR file (`com.atproto.sync.getRepo`) into
    /// memory, up to [`ClientBuilder::max_response_size`](crate::ClientBuilder::max_response_size).
    /// `atdata_core::repo::verify_car` checks it.
    pub async fn get_repo(
        &self,
        did: impl IntoIdentifier<Did>,
    ) -> Result<Vec<u8>, Error<get_repo::Error>> {
        let request = crate::com::atproto::sync::GetRepo::new(did_arg(did)?);
        self.send(&request).await.map(|body| body.bytes)
    }

    /// Exports the repository of `did` into the file at `path`, streaming; returns the number
    /// of bytes written.
    pub async fn get_repo_to_file(
        &self,
        did: impl IntoIdentifier<Did>,
        path: impl AsRef<Path>,
    ) -> Result<u64, Error<get_repo::Error>> {
        let request = crate::com::atproto::sync::GetRepo::new(did_arg(did)?);
        self.download(&request, path.as_ref()).await
    }

    /// Sends a query whose body goes to a file.
    async fn download<R: atdata_core::xrpc::XrpcRequest>(
        &self,
        request: &R,
        path: &Path,
    ) -> Result<u64, Error<R::Error>> {
        let mut params = QueryParams::new();
        request.write_params(&mut params);
        let call = Call {
            nsid: R::NSID.into(),
            method: R::METHOD,
            query: params.to_query_string(),
            payload: None,
            auth: Auth::Session,
            sink: Sink::File(path),
        };
        let received = self
            .perform(&call, &CallOptions::new())
            .await
            .map_err(Error::typed)?;
        Ok(match received.body {
            ReceivedBody::File(written) => written,
            ReceivedBody::Bytes(bytes) => bytes.len() as u64,
        })
    }
}

fn did_arg<E: atdata_core::xrpc::XrpcErrorName>(
    did: impl IntoIdentifier<Did>,
) -> Result<Did, Error<E>> {
    did.into_identifier()
        .map_err(|source| Error::InvalidArgument {
            what: "did",
            source,
        })
}
