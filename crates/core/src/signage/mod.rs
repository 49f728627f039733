//! The signage room: printed batches of labels, shelf cards and table tents, each product's
//! QR code, and static payment-QR payloads (EPC, Pix, UPI, EMVCo) the owner can print.

mod batch;
pub mod payload;
mod store;

use std::path::Path;

pub use batch::*;
pub use store::batch_products;

use crate::Shop;
use crate::catalog::photos::Variant;
use crate::error::Result;

impl Shop {
    // Signage

    /// Prepares a batch of signs (new batch id, tracked buy links, local prices); nothing
    /// is stored until `record_signage` after the file was written.
    pub async fn plan_signage(
        &self,
        selection: &batch::Selection,
        template: &str,
        copies: u32,
    ) -> Result<batch::SignageBatch> {
        let settings = self.settings().await?;
        let products = batch::products_for(&self.pool, selection).await?;
        let (paid_links, provider) = if settings.links_to_shop_page() {
            Default::default()
        } else {
            self.reusable_links(&products).await?
        };
        let tag = |url: &str, tag: &str| provider.as_ref().and_then(|p| p.tag_link(url, tag));
        batch::plan(&settings, &products, template, copies, &paid_links, &tag)
    }

    pub async fn record_signage(&self, batch: &batch::SignageBatch) -> Result<()> {
        store::record(&self.pool, batch, "buy_link").await
    }

    /// Everything a signage request needs before rendering: template, planned batch, call to
    /// action and the shop logo (if one is set).
    async fn prepare_signage(
        &self,
        request: &batch::SignageRequest,
    ) -> Result<batch::PreparedSignage> {
        let template = batch::template_for(request)?;
        let batch = self
            .plan_signage(&request.selection, &request.template, request.copies)
            .await?;
        let call_to_action = request
            .call_to_action
            .clone()
            .filter(|c| !c.trim().is_empty());
        let logo = match self.logo().await? {
            Some(photo) => self
                .media
                .read(&photo.hash, Variant::Full)
                .map(|(bytes, _)| bytes),
            None => None,
        };
        Ok(batch::PreparedSignage {
            template,
            batch,
            call_to_action,
            logo,
        })
    }

    /// Plans, renders and writes a signage PDF to `out`, and records the batch.
    pub async fn print_signage(
        &self,
        request: &batch::SignageRequest,
        out: &Path,
    ) -> Result<batch::SignageReport> {
        let prepared = self.prepare_signage(request).await?;
        let batch = prepared.batch.clone();
        // Rendering is CPU work: keep it off the async runtime.
        let pdf = tokio::task::spawn_blocking(move || prepared.render())
            .await
            .expect("signage render task panicked")?;
        let report = batch::print_to(&self.pool, &batch, &pdf, out).await?;
        batch::remember_request(&self.pool, request).await?;
        Ok(report)
    }

    /// A page of what `print_signage` would produce, as SVG (nothing is recorded).
    pub async fn preview_signage(
        &self,
        request: &batch::SignageRequest,
        page: u32,
    ) -> Result<batch::SignagePreview> {
        let prepared = self.prepare_signage(request).await?;
        tokio::task::spawn_blocking(move || prepared.preview(page))
            .await
            .expect("signage preview task panicked")
    }

    /// The QR code of one product: its tracked buy link by default (`sign` is a new batch id,
    /// recorded when the code is saved), or any other payload the owner picked.
    async fn product_qr_payload(
        &self,
        product_id: i64,
        payload: Option<&payload::QrPayloadRequest>,
        template: &str,
    ) -> Result<(Vec<u8>, bool, Option<batch::SignageBatch>)> {
        match payload {
            Some(request) => {
                self.product(product_id).await?;
                let latin1 = matches!(request, payload::QrPayloadRequest::Epc { latin1: true, .. });
                Ok((payload::build(request)?, latin1, None))
            }
            None => {
                let batch = self
                    .plan_signage(&batch::Selection::Ids(vec![product_id]), template, 1)
                    .await?;
                let link = batch.signs[0].qr_payload.clone().into_bytes();
                Ok((link, false, Some(batch)))
            }
        }
    }

    pub async fn product_qr_preview(
        &self,
        product_id: i64,
        payload: Option<&payload::QrPayloadRequest>,
    ) -> Result<payload::QrPreview> {
        let (bytes, latin1, _) = self.product_qr_payload(product_id, payload, "qr").await?;
        payload::preview(&bytes, latin1)
    }

    /// Writes the product's QR code as PNG or SVG; a buy-link code is recorded as a batch.
    pub async fn save_product_qr(
        &self,
        product_id: i64,
        payload: Option<&payload::QrPayloadRequest>,
        format: payload::QrImage,
        out: &Path,
    ) -> Result<payload::QrPreview> {
        let template = match format {
            payload::QrImage::Png { .. } => "qr-png",
            payload::QrImage::Svg => "qr-svg",
        };
        let (bytes, latin1, batch) = self
            .product_qr_payload(product_id, payload, template)
            .await?;
        let image = payload::image(&bytes, format)?;
        crate::infra::write_file_atomically(out, &image)?;
        if let Some(batch) = batch
            && let Err(error) = self.record_signage(&batch).await
        {
            let _ = std::fs::remove_file(out);
            return Err(error);
        }
        payload::preview(&bytes, latin1)
    }

    /// What the owner printed last time, if anything.
    pub async fn last_signage_request(&self) -> Result<Option<batch::SignageRequest>> {
        batch::last_request(&self.pool).await
    }

    pub async fn signage_batch(&self, batch_id: &str) -> Result<Vec<(Option<i64>, String)>> {
        store::batch_products(&self.pool, batch_id).await
    }
}
