"""营商环境标杆经验知识库：工作人员使用的网页界面。 The staff's web app.

    streamlit run app.py            # the project's default knowledge base (kb/)
    REFORMKB_HOME=/path/to/kb streamlit run app.py

Page config and navigation only: each page is a module of :mod:`reformkb.app` (search, browse, add,
importing, manage) that reads and writes through :class:`reformkb.kb.KnowledgeBase`; the pieces they
share (the one KnowledgeBase of the process, sign-in, cards, exports) are in :mod:`reformkb.app.common`
and the pure display helpers in :mod:`reformkb.app.display`.

User text is never rendered as Markdown or HTML: cards are escaped HTML (``st.html``), tables and
code blocks show text as it is, and messages that quote user input go through ``ui.plain``.
"""
import streamlit as st

from reformkb.app import add, browse, importing, manage, search
from reformkb.app.common import TITLE, page_style, sign_in_status

PAGES = {"search": "检索", "browse": "按地区浏览", "add": "新增案例", "import": "导入专报", "manage": "管理"}
PAGE_ICONS = {"search": ":material/search:", "browse": ":material/map:", "add": ":material/add_circle:",
              "import": ":material/upload_file:", "manage": ":material/settings:"}
PAGE_FUNCTIONS = {"search": search.page, "browse": browse.page, "add": add.page, "import": importing.page,
                  "manage": manage.page}


def main() -> None:
    st.set_page_config(page_title=TITLE, page_icon=":material/menu_book:", layout="wide")
    page_style()
    if "page" not in st.session_state:  # a link such as ?page=browse opens that page
        wanted = st.query_params.get("page")
        st.session_state.page = wanted if wanted in PAGES else "search"
    page = st.sidebar.radio("功能", list(PAGES), key="page", format_func=lambda p: f"{PAGE_ICONS[p]} {PAGES[p]}")
    st.query_params["page"] = page
    sign_in_status()
    st.sidebar.divider()
    st.markdown(f"#### {TITLE} · {PAGES[page]}")
    PAGE_FUNCTIONS[page]()


main()
