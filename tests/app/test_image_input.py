"""AppTest for views/_widgets.image_input: upload messages name the file once; the picker takes what the loader takes."""
from __future__ import annotations

import io

from PIL import Image, features
from streamlit.testing.v1 import AppTest


def _page():
    import streamlit as st

    from views._widgets import image_input

    got = image_input("t")
    if got is not None:
        st.write(f"decoded {got[0].size[0]}x{got[0].size[1]} {got[0].mode}")


def _upload(name: str, data: bytes, mime: str = "image/png") -> AppTest:
    at = AppTest.from_function(_page, default_timeout=60).run()
    at.radio(key="t_src").set_value("Upload").run()
    at.file_uploader(key="t_upload").upload(name, data, mime).run()
    assert not at.exception, at.exception
    return at


def test_bad_upload_names_the_file_once():
    at = _upload("bad.png", b"this is not a picture")
    (err,) = [e.value for e in at.error]
    assert err.startswith("bad.png: not a supported image"), err
    assert err.count("bad.png") == 1, err


def test_bad_upload_name_with_html_characters_is_escaped_once():
    """The name is escaped once for display: ``a&b.png`` arrives as ``a&amp;b.png`` (shown as a&b.png by the
    Markdown renderer), never ``a&amp;amp;b.png`` (shown literally as a&amp;b.png)."""
    at = _upload("a&b<i>.png", b"this is not a picture")
    (err,) = [e.value for e in at.error]
    assert err.startswith("a&amp;b&lt;i&gt;.png: not a supported image"), err
    assert "&amp;amp;" not in err and "&amp;lt;" not in err


def test_the_picker_and_the_message_list_the_same_formats():
    from core.images import ALLOWED_TEXT, UPLOAD_EXTENSIONS

    at = AppTest.from_function(_page, default_timeout=60).run()
    at.radio(key="t_src").set_value("Upload").run()
    accepted = {t.lstrip(".") for t in at.file_uploader(key="t_upload").proto.type}
    assert accepted == set(UPLOAD_EXTENSIONS)
    assert any(ALLOWED_TEXT in i.value for i in at.info)
    if "AVIF" in ALLOWED_TEXT:
        assert "avif" in accepted


def test_avif_upload_decodes_when_the_message_offers_it():
    if not features.check("avif"):
        return  # this Pillow cannot write AVIF: the message does not offer it either (checked above)
    buf = io.BytesIO()
    Image.new("RGB", (20, 10), (200, 30, 30)).save(buf, format="AVIF")
    at = _upload("photo.avif", buf.getvalue(), "image/avif")
    assert not at.error, [e.value for e in at.error]
    assert any("decoded 20x10 RGB" in m.value for m in at.markdown)
