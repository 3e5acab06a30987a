//! A 2-D layout of vectors for the dashboard: PCA by power iteration (top two principal
//! components of the centred vectors), deterministic, O(iterations × n × d).

const ITERATIONS: usize = 60;

/// Projects each vector onto the first two principal components.
pub fn pca2(vectors: &[Vec<f32>]) -> Vec<(f32, f32)> {
    let Some(d) = vectors.first().map(Vec::len) else {
        return Vec::new();
    };
    let n = vectors.len() as f32;
    let mut mean = vec![0f32; d];
    for v in vectors {
        mean.iter_mut().zip(v).for_each(|(m, x)| *m += x / n);
    }
    let centred: Vec<Vec<f32>> = vectors
        .iter()
        .map(|v| v.iter().zip(&mean).map(|(x, m)| x - m).collect())
        .collect();
    let first = component(&centred, d, None);
    let second = component(&centred, d, Some(&first));
    centred
        .iter()
        .map(|v| (dot(v, &first), dot(v, &second)))
        .collect()
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn normalise(v: &mut [f32]) {
    let norm = dot(v, v).sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
}

/// The dominant eigenvector of XᵀX, orthogonal to `exclude`.
fn component(x: &[Vec<f32>], d: usize, exclude: Option<&[f32]>) -> Vec<f32> {
    let mut v: Vec<f32> = (0..d).map(|i| 1.0 + (i % 7) as f32 * 0.1).collect();
    for _ in 0..ITERATIONS {
        let mut next = vec![0f32; d];
        for row in x {
            let p = dot(row, &v);
            next.iter_mut().zip(row).for_each(|(n, r)| *n += p * r);
        }
        if let Some(e) = exclude {
            let p = dot(&next, e);
            next.iter_mut().zip(e).for_each(|(n, e)| *n -= p * e);
        }
        normalise(&mut next);
        v = next;
    }
    v
}

#[cfg(test)]
mod tests {
    #[test]
    fn separates_two_clusters_on_the_first_axis() {
        let mut vs = Vec::new();
        for i in 0..20 {
            let s = if i < 10 { 1.0 } else { -1.0 };
            vs.push(vec![s + (i as f32) * 0.001, 0.01 * i as f32, 0.0]);
        }
        let p = super::pca2(&vs);
        assert!(p[..10].iter().all(|(x, _)| x.signum() == p[0].0.signum()));
        assert!(p[10..].iter().all(|(x, _)| x.signum() == -p[0].0.signum()));
        assert!(super::pca2(&[]).is_empty());
    }
}
