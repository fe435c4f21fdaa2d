//! The self-contained HTML review report. (Being written.)

use std::collections::BTreeMap;

use cleave_analyzer::review::Review;

/// Source lines around each hazard: `(file, line)` -> `[(line number, text)]`.
pub type Excerpts = BTreeMap<(String, u32), Vec<(u32, String)>>;

/// Renders the review as one HTML page with inline CSS and SVG.
pub fn render_html(review: &Review, excerpts: &Excerpts) -> String {
    let _ = (review, excerpts);
    String::new()
}
