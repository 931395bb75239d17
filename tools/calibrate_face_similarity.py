"""Measure face-descriptor cosines on real pairs to calibrate ``face_similarity``'s 0-100 map.

Runs in the library's own venv (it uses vislab's face engine)::

    .venv/bin/python tools/calibrate_face_similarity.py

Same person: edited copies (brighter, lower contrast, JPEG q30, mirror, blur, shifted crop,
downscaled, rotated 10 degrees) of the astronaut, the cameraman and ten ``lfw_subset`` faces,
each against its original. Different people: every pair of the 100 ``lfw_subset`` faces
(25x25 grey crops, upscaled 4.5x and pasted on a grey 224x224 canvas so BlazeFace sees a whole
head). ``lfw_subset`` carries no identity labels, so a few "different" pairs may in fact show
one person twice; the printed quantiles are robust to that. The constants ``COSINE_FLOOR`` and
``COSINE_SAME`` of :mod:`vislab.engine.faces.description` are chosen from these numbers.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageEnhance, ImageFilter
from skimage import data

from vislab.engine.faces import detect_faces, face_descriptor, similarity_score


def pasted_lfw_face(face: np.ndarray, side: int = 112, canvas: int = 224) -> np.ndarray:
    """An ``lfw_subset`` face (25x25 floats) upscaled and centred on a grey RGB canvas."""
    small = Image.fromarray((face * 255).round().astype(np.uint8))
    big = np.asarray(small.resize((side, side), Image.BICUBIC))
    out = np.full((canvas, canvas), 128, np.uint8)
    offset = (canvas - side) // 2
    out[offset : offset + side, offset : offset + side] = big
    return np.stack([out] * 3, axis=-1)


def edited_copies(rgb: np.ndarray) -> dict[str, np.ndarray]:
    """Photometric and geometric edits that keep the person."""
    image = Image.fromarray(rgb)
    width, height = image.size
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=30)
    return {
        "brighter": np.asarray(ImageEnhance.Brightness(image).enhance(1.25)),
        "contrast": np.asarray(ImageEnhance.Contrast(image).enhance(0.7)),
        "jpeg30": np.asarray(Image.open(buffer).convert("RGB")),
        "mirror": np.asarray(image.transpose(Image.FLIP_LEFT_RIGHT)),
        "blur": np.asarray(image.filter(ImageFilter.GaussianBlur(1.5))),
        "shift": np.asarray(image.crop((width // 16, height // 16, width, height))),
        "small": np.asarray(image.resize((width * 3 // 4, height * 3 // 4), Image.BILINEAR)),
        "rotate": np.asarray(image.rotate(10, resample=Image.BILINEAR)),
    }


def single_descriptor(rgb: np.ndarray) -> np.ndarray | None:
    faces = detect_faces(rgb)
    return face_descriptor(rgb, faces[0]) if len(faces) == 1 else None


def main() -> None:
    lfw = data.lfw_subset()[:100]  # the first 100 images of lfw_subset are faces
    bases = {"astronaut": data.astronaut(), "camera": np.stack([data.camera()] * 3, -1)}
    bases.update({f"lfw{i}": pasted_lfw_face(lfw[i]) for i in range(0, 100, 10)})
    same, skipped = [], []
    for name, rgb in bases.items():
        reference = single_descriptor(rgb)
        for edit, image in edited_copies(rgb).items():
            vector = single_descriptor(image)
            if vector is None:
                skipped.append(f"{name}/{edit}")
                continue
            same.append(float(reference @ vector))
    vectors = [v for v in (single_descriptor(pasted_lfw_face(f)) for f in lfw) if v is not None]
    matrix = np.array(vectors)
    upper = np.triu_indices(len(matrix), 1)
    different = (matrix @ matrix.T)[upper]
    same = np.array(same)
    print(f"same person (edited copies): n={same.size}, skipped (not one face): {skipped}")
    for q in (0.0, 0.05, 0.1, 0.5):
        print(f"  cosine q{q:.2f} {np.quantile(same, q):.3f}")
    print(f"different people (lfw_subset pairs of {len(matrix)} faces): n={different.size}")
    for q in (1.0, 0.99, 0.95, 0.5):
        print(f"  cosine q{q:.2f} {np.quantile(different, q):.3f}")
    scores_same = np.array([similarity_score(c) for c in same])
    scores_diff = np.array([similarity_score(c) for c in different])
    print(
        f"with the current mapping: same >= 80 in {np.mean(scores_same >= 80):.1%}, "
        f"different < 80 in {np.mean(scores_diff < 80):.1%}"
    )


if __name__ == "__main__":
    main()
