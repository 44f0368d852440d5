"""The command line: ``reformkb COMMAND …``. Each command is a thin call into KnowledgeBase."""
from __future__ import annotations

import argparse
import json
import logging
import sys
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path

from reformkb.errors import ReformKBError
from reformkb.ingest.regions import PLACES_FILE

DESCRIPTION = """reformkb：营商环境标杆经验知识库 / a knowledge base of benchmark reform practices.

常用 / common:
  reformkb init                         建立默认知识库（导入 kb/sources/ 中的专报） / build the default knowledge base
  reformkb search 企业注销提速            智能检索 / hybrid search
  reformkb import 专报.docx              导入专报或案例表 / import bulletins or record files
  reformkb regions                      按地区统计 / practices per region
  reformkb regions --province 广东       按省 → 市 → 县区、园区统计 / drill down a province
  reformkb regions --unresolved         地区待确认的案例 / places to confirm
  reformkb backup 备份.db / restore 备份.db  备份与恢复 / back up and restore the database
  reformkb editors add 张三              设置编辑账号（此后修改需登录） / require editor sign-in

编辑登录 / editor sign-in (when the knowledge base has editors.toml):
  --user 姓名，密码取自 REFORMKB_PASSWORD 或提示输入 / password from REFORMKB_PASSWORD or a prompt
  或设置 REFORMKB_EDITOR_KEY（共享编辑密钥） / or the shared editor key in REFORMKB_EDITOR_KEY
"""


IMPORT_FORMS = """专报可以是 / bulletins may be:
  .txt                         文本（UTF-8 或 GBK） / text
  .docx                        Word 文档 / Word
  .doc .wps .rtf               Word 97、WPS 文档（需本机安装 LibreOffice，make 会安装） / via LibreOffice
  .pdf                         文字版 PDF；扫描件 PDF 逐页文字识别（OCR） / text PDF; scanned pages OCR'd
  .png .jpg .jpeg .tif .tiff .bmp  扫描件、手机拍照（多页 TIFF 每帧一页，OCR） / scans and photos (OCR)
  .ofd                         OFD 版式文件（GB/T 33190） / OFD fixed-layout documents
  .html .htm .mhtml .mht       保存的网页（只取文章正文） / saved web pages (the article only)
格式按文件内容识别，扩展名不符时按内容读取并提示 / the form is read from the content, not the name.
案例表 / record files: .jsonl（每行一个 JSON 对象）、.csv（第一行为列名，至少有 text 列）。
文字识别逐页显示进度；每个文件最多 REFORMKB_MAX_OCR_PAGES 页（默认 60）、REFORMKB_MAX_OCR_SECONDS 秒（默认 600）。
"""


# argparse's own texts, in Chinese. argparse looks each one up through its module-level ``_`` (gettext) when
# it builds a parser, formats help and reports an error; _Parser swaps in this table for exactly those calls.
_ARGPARSE_ZH = {
    "usage: ": "用法：",
    "positional arguments": "参数",
    "options": "选项",
    "show this help message and exit": "显示本帮助并退出 / show this help",
    "%(prog)s: error: %(message)s\n": "%(prog)s：错误：%(message)s\n",
    "the following arguments are required: %s": "缺少必需的参数：%s",
    "unrecognized arguments: %s": "无法识别的参数：%s",
    "invalid choice: %(value)r (choose from %(choices)s)": "无效的选项 %(value)r（可选：%(choices)s）",
    "invalid %(type)s value: %(value)r": "%(value)r 不是有效的 %(type)s 值",
    "argument %(argument_name)s: %(message)s": "参数 %(argument_name)s：%(message)s",
    "expected one argument": "需要一个值",
    "expected at least one argument": "至少需要一个值",
    "expected at most one argument": "最多一个值",
    "ambiguous option: %(option)s could match %(matches)s": "选项 %(option)s 不明确，可能是 %(matches)s",
    "not allowed with argument %s": "不能与参数 %s 同时使用",
    "one of the arguments %s is required": "需要参数 %s 之一",
}


@contextmanager
def _chinese_argparse():
    original = argparse._
    if getattr(original, "reformkb_zh", False):  # already inside
        yield
        return

    def chinese(message: str) -> str:
        return _ARGPARSE_ZH.get(message) or original(message)

    chinese.reformkb_zh = True
    argparse._ = chinese
    try:
        yield
    finally:
        argparse._ = original


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose own texts (usage, section titles, -h, errors) are in Chinese."""

    def __init__(self, *args, **kwargs):
        with _chinese_argparse():
            super().__init__(*args, **kwargs)

    def add_argument_group(self, *args, **kwargs):
        with _chinese_argparse():
            return super().add_argument_group(*args, **kwargs)

    def format_usage(self) -> str:
        with _chinese_argparse():
            return super().format_usage()

    def format_help(self) -> str:
        with _chinese_argparse():
            return super().format_help()

    def parse_known_args(self, args=None, namespace=None):
        with _chinese_argparse():
            return super().parse_known_args(args, namespace)

    def error(self, message):
        with _chinese_argparse():
            super().error(message)


MODEL_NOTE = ("智能（hybrid，默认）和语义（semantic）检索在每次运行时先加载语言模型，本机约 10–15 秒；"
              "--mode keyword 只按字词检索，不加载模型，约 1 秒返回。similar 和 export --query 也要加载模型。")
AS_TYPED_HELP = ("按原词检索，不纠正同音错别字（默认会把“企业住销”按“企业注销”检索并提示） / "
                 "search the query as typed, without correcting homophone typos")


def _settings(args):
    from reformkb.settings import Settings

    if getattr(args, "model", None):
        return Settings.default(args.home, model=args.model)
    return Settings.default(args.home)


def _editor(args, settings):
    """The signed-in editor for a command that writes, or None (single-user mode, or no credentials).

    REFORMKB_EDITOR_KEY signs in with the shared key (the person is --user, else the login name);
    otherwise --user signs in with the password from REFORMKB_PASSWORD or a prompt.
    """
    import getpass
    import os

    from reformkb.auth import Editors

    editors = Editors.for_home(settings.home)
    if not getattr(args, "writes", False) or not editors.enabled:
        return None
    key = os.environ.get("REFORMKB_EDITOR_KEY")
    if key:
        return editors.sign_in_key(key, args.user or getpass.getuser())
    if not args.user:
        return None  # the write itself explains how to sign in
    password = os.environ.get("REFORMKB_PASSWORD")
    if password is None:
        password = getpass.getpass(f"{args.user} 的密码 / password: ")
    return editors.sign_in(args.user, password)


def _kb(args, **kwargs):
    from reformkb.kb import KnowledgeBase

    settings = _settings(args)
    editor = _editor(args, settings)
    return KnowledgeBase(settings=settings, actor=getattr(args, "actor", None) or "cli", editor=editor, **kwargs)


def _print_json(data) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=1))


def _print_record(rec, score: str = "", suggested_topic: str = "") -> None:
    badges = "；".join(m.get("summary") or m.get("badge", "") for m in rec.metrics if m.get("badge"))
    print(f"[{rec.id}] {rec.region}{'·' + rec.agency if rec.agency else ''}  {rec.title}{score}")
    print(f"    {rec.text}")
    topics = f"主题：{'、'.join(rec.topics)}" if rec.topics else (
        f"推荐主题：{suggested_topic}（模型推荐，未确认）" if suggested_topic else "")
    meta = [topics, f"成效：{badges}" if badges else "",
            f"来源：{rec.source.title} 第{rec.source.issue}期 {rec.source.date}" if rec.source.title else "",
            f"ref：{rec.ref}" if rec.ref else ""]
    print("    " + "  ".join(m for m in meta if m))


def _print_hits(hits, as_json: bool, score_label: str, graded: bool = True) -> int:
    """Hits with their relevance grade: strong and related ones first (in rank order), then the weak
    ones under a line of their own; when no hit is better than weak, a plain sentence says so first.
    ``graded=False`` (similar practices, which have no calibrated grade) prints them in rank order."""
    from reformkb.search.fusion import NOTHING_CLOSE, RELEVANCE_LABELS, answers

    if as_json:
        _print_json([h.to_dict() for h in hits])
        return 0
    if not graded:
        for n, hit in enumerate(hits, 1):
            print(f"{n}.", end=" ")
            _print_record(hit.record, f"  （{score_label} {hit.score:.3f}）", hit.suggested_topic)
        return 0
    good = answers(hits)
    weak = [h for h in hits if h.relevance == "weak"]
    if hits and not good:
        print(NOTHING_CLOSE)
    for n, hit in enumerate(good + weak, 1):
        if good and n == len(good) + 1:
            print("—— 其他可能相关（相关度较低）——")
        print(f"{n}.", end=" ")
        label = RELEVANCE_LABELS.get(hit.relevance, hit.relevance)
        _print_record(hit.record, f"  〔{label}〕（{score_label} {hit.score:.3f}）", hit.suggested_topic)
    return 0


def _filters(args):
    from reformkb.search.fusion import Filters

    return Filters(province=args.province or "", region=args.region or "", topic=args.topic or "",
                   source=args.source or "", date_from=args.date_from or "", date_to=args.date_to or "",
                   kind="" if getattr(args, "all_kinds", False) else "practice")


def cmd_init(args) -> int:
    from reformkb.settings import Settings

    settings = Settings.default(args.home)
    existed = settings.db_path.exists()
    kb = _kb(args, empty=args.empty)
    with kb:
        if not existed or args.rebuild_index:
            kb.rebuild_index()
        s = kb.stats()
    print(("已打开现有知识库" if existed else "已建立知识库") + f"：{s['database']}")
    print(f"标杆经验 {s['practices']} 条，工作动态 {s['actions']} 条，涉及 {s['regions']} 个地区；向量索引 {s['indexed']} 条。")
    return 0


def _progress():
    from tqdm import tqdm

    bar = {}

    def update(done: int, total: int) -> None:
        if "bar" not in bar:
            bar["bar"] = tqdm(total=total, unit="条", desc="导入", file=sys.stderr, leave=False)
        bar["bar"].n = done
        bar["bar"].refresh()

    return update


def _page_progress():
    """Per-page progress of OCR (scans and photos), one bar per file, on stderr."""
    from tqdm import tqdm

    bars = {}

    def update(name: str, done: int, total: int) -> None:
        if name not in bars:
            bars[name] = tqdm(total=total, unit="页", desc=f"文字识别 {name}", file=sys.stderr, leave=False)
        bars[name].n = done
        bars[name].refresh()
        if done >= total:
            bars.pop(name).close()

    return update


def cmd_import(args) -> int:
    if args.dry_run:
        return _preview_import(args)
    with _kb(args) as kb:
        report = kb.import_files(args.files, progress=_progress(), include_actions=not args.practices_only,
                                 page_progress=_page_progress())
    if args.json:
        _print_json({"added": [r.to_dict() for r in report.added],
                     "duplicates": [{"text": r.text, "existing_id": i} for r, i in report.duplicates],
                     "refused": [{"what": w, "why": y} for w, y in report.refused], "warnings": report.warnings})
    else:
        for rec in report.added:
            print(f"新增 [{rec.id}] {rec.region} {rec.title}")
        for rec, existing in report.duplicates:
            print(f"重复 {rec.region} {rec.title}（已有第 {existing} 条）")
        for what, why in report.refused:
            print(f"拒绝 {what}：{why}")
        for warning in report.warnings:
            print(f"提示 {warning}")
        print(report.summary())
    return 1 if report.refused and not report.added and not report.duplicates else 0


def _preview_import(args) -> int:
    """``import --dry-run``: what the import would do, file by file; nothing is stored."""
    args.writes = False  # a preview reads only: no sign-in
    with _kb(args) as kb:
        previews = kb.preview_import(args.files, include_actions=not args.practices_only)
    if args.json:
        _print_json([p.to_dict() for p in previews])
    else:
        for p in previews:
            for rec in p.added:
                print(f"将新增 {rec.region} {rec.title}")
            for rec, number in p.merged:
                print(f"将合并 {rec.region} {rec.title}（与本文件第 {number} 条相同）")
            for rec, existing in p.skipped:
                print(f"将跳过 {rec.region} {rec.title}（已有第 {existing} 条）")
            for what, why in p.refused:
                print(f"将拒绝 {what}：{why}")
            for left in p.left_out:
                print(f"不导入 {left.text[:30]}{'…' if len(left.text) > 30 else ''}：{left.reason}")
            for warning in p.warnings:
                print(f"提示 {warning}")
            print(p.summary())
        print("（预览：没有写入知识库。去掉 --dry-run 即正式导入。）")
    return 1 if all(p.refused and not (p.added or p.merged or p.skipped) for p in previews) else 0


def cmd_add(args) -> int:
    from reformkb.records import Record, Source

    text = sys.stdin.read() if args.text == "-" else args.text
    rec = Record(text=text, region=args.region or "", title=args.title or "", agency=args.agency or "",
                 topics=[t for t in (args.topics or "").replace("；", ";").split(";") if t.strip()], ref=args.ref or "",
                 source=Source(title=args.source or "", date=args.date or ""))
    with _kb(args) as kb:
        rec, near = kb.add(rec)
        review = kb.place_review(rec)
    if review is not None:
        print(f"提示：{review.message}")
    for other, sim in near:
        print(f"提示：与第 {other.id} 条（{other.region} {other.title}）相似度 {sim:.2f}，请确认不是重复案例。")
    print(f"已保存第 {rec.id} 条：{rec.region} {rec.title}")
    return 0


def cmd_show(args) -> int:
    with _kb(args) as kb:
        rec = kb.get(args.id)
    if args.json:
        _print_json(rec.to_dict())
    else:
        _print_record(rec)
    return 0


def cmd_edit(args) -> int:
    changes = {k: getattr(args, k) for k in ("text", "region", "title", "agency", "ref") if getattr(args, k) is not None}
    if args.topics is not None:
        changes["topics"] = [t for t in args.topics.replace("；", ";").split(";") if t.strip()]
    if not changes:
        print("错误：没有要修改的内容：请用 --text、--region、--title、--agency、--topics 或 --ref 指定。", file=sys.stderr)
        return 2
    with _kb(args) as kb:
        rec = kb.edit(args.id, **changes)
    print(f"已修改第 {rec.id} 条：{rec.region} {rec.title}")
    return 0


def cmd_delete(args) -> int:
    with _kb(args) as kb:
        rec = kb.delete(args.id)
    print(f"已删除第 {rec.id} 条：{rec.region} {rec.title}（可用 reformkb undelete {rec.id} 恢复）")
    return 0


def cmd_undelete(args) -> int:
    with _kb(args) as kb:
        rec = kb.restore(args.id)
    print(f"已恢复第 {rec.id} 条：{rec.region} {rec.title}")
    return 0


def _searched_as(hits, out=None) -> None:
    """Say so when the query was searched as its homophone correction."""
    if hits and hits[0].searched_as:
        from reformkb.search.fusion import SEARCHED_AS

        print(SEARCHED_AS.format(hits[0].searched_as) + "要按原词检索，加 --as-typed。", file=out or sys.stdout)


def cmd_search(args) -> int:
    with _kb(args) as kb:
        hits = kb.search(args.query, k=args.k, mode=args.mode, filters=_filters(args), as_typed=args.as_typed)
    if not hits and not args.json:
        print("没有找到相关案例：可以换个说法，或去掉筛选条件再试。")
    if not args.json:
        _searched_as(hits)
    return _print_hits(hits, args.json, "得分")


def cmd_similar(args) -> int:
    with _kb(args) as kb:
        hits = kb.similar(args.id, k=args.k, other_regions=not args.same_region)
    return _print_hits(hits, args.json, "相似度", graded=False)


def cmd_regions(args) -> int:
    kind = "" if args.all_kinds else "practice"
    with _kb(args) as kb:
        if args.unresolved:
            places = kb.unresolved_places(kind)
            if args.json:
                _print_json([{"region": p.region, "province": p.province, "city": p.city, "county": p.county,
                              "count": p.count, "message": p.review.message, "ids": p.ids,
                              "candidates": [c.label for c in p.review.candidates]} for p in places])
                return 0
            for p in places:
                print(f"{p.region}\t{p.count}\t{p.review.message}\t编号 {'、'.join(map(str, p.ids))}")
            print(f"地区待确认 {len(places)} 处。" if places else "没有地区待确认的案例。")
            return 0
        if args.province:
            tree = kb.place_tree(args.province, kind)
            if args.json:
                _print_json([asdict(t) for t in tree])
                return 0
            for province in tree:
                print(f"{province.name}\t{province.count}")
                for city in province.children:
                    print(f"  {city.name}\t{city.count}")
                    for county in city.children:
                        print(f"    {county.name}\t{county.count}")
            return 0
        rows = kb.regions(kind=kind)
    if args.json:
        _print_json([r.__dict__ for r in rows])
        return 0
    for r in rows:
        print(f"{r.region}\t{r.province}\t{r.count}")
    return 0


def cmd_places(args) -> int:
    with _kb(args) as kb:
        if args.action == "add":
            place = kb.add_place(args.name, args.parent or "")
            print(f"已新增地名“{place.name}”（属于{place.county or place.city or place.province}），"
                  f"保存在 {kb.settings.home / PLACES_FILE}。")
        else:
            changed = kb.confirm_place(args.name, args.to or "")
            print(f"已将 {len(changed)} 条案例的地区“{args.name}”确认为“{changed[0].region}”：编号 "
                  + "、".join(str(r.id) for r in changed))
    return 0


def cmd_topics(args) -> int:
    from reformkb.ingest.topics import taxonomy

    with _kb(args) as kb:
        counts = dict(kb.topic_counts())
    if args.json:
        _print_json([{"topic": t.name, "description": t.description, "count": counts.get(t.name, 0)} for t in taxonomy()])
        return 0
    for t in taxonomy():
        print(f"{t.name}\t{counts.get(t.name, 0)}\t{t.description}")
    return 0


def cmd_export(args) -> int:
    with _kb(args) as kb:
        if args.query:
            from reformkb.search.fusion import answers

            hits = kb.search(args.query, k=args.k, mode=args.mode, filters=_filters(args), as_typed=args.as_typed)
            _searched_as(hits, sys.stderr)
            records = [h.record for h in answers(hits, include_weak=args.include_weak)]
            if hits and not records:
                print("没有找到高度相关的做法，未导出：可以换个更宽泛的说法，"
                      "或加 --include-weak 导出意思最接近的结果。", file=sys.stderr)
                return 1
            left_out = len(hits) - len(records)
        else:
            records, left_out = kb.records(_filters(args)), 0
        path = kb.export(records, args.output, args.format, force=args.force,
                         group_by="" if args.group_by == "none" else args.group_by)
    print(f"已导出 {len(records)} 条到 {path}" + (f"（另有 {left_out} 条相关度较低，未导出）" if left_out else ""))
    return 0


def cmd_stats(args) -> int:
    with _kb(args) as kb:
        s = kb.stats()
    if args.json:
        _print_json(s)
        return 0
    labels = {"practices": "标杆经验", "actions": "工作动态", "regions": "地区数", "provinces": "省份数",
              "sources": "来源专报", "model": "向量模型", "index_type": "索引类型", "indexed": "已索引",
              "fresh": "索引是否最新", "database": "数据库", "index_dir": "索引目录"}
    for key, label in labels.items():
        value = s.get(key)
        print(f"{label}：{('是' if value else '否') if isinstance(value, bool) else value}")
    for copy in s["restore_copies"]:
        print(f"恢复前保留的数据库：{copy['path']}（{copy['bytes'] / 2**20:.1f} MiB）")
    for notice in s["notices"]:
        print(f"提示：{notice}")
    return 0


def cmd_rebuild(args) -> int:
    with _kb(args) as kb:
        s = kb.rebuild_index()
    print(f"向量索引已重建：{s['indexed']} 条，类型 {s['index_type']}。")
    return 0


def cmd_backup(args) -> int:
    with _kb(args, empty=True) as kb:
        path = kb.backup(args.output, force=args.force)
    print(f"已备份到 {path}")
    return 0


def cmd_restore(args) -> int:
    from reformkb.kb import KnowledgeBase

    if args.undo == (args.backup is not None):
        print("错误：请给出备份文件（reformkb restore 备份.db），或用 --undo 撤销上一次恢复（二者选一）。", file=sys.stderr)
        return 2
    if args.undo:
        with _kb(args, empty=True) as kb:
            result = kb.undo_restore()
        source = "上一次恢复前保留的数据库"
    else:
        settings = _settings(args)
        result = KnowledgeBase.restore_backup(args.backup, settings=settings, editor=_editor(args, settings),
                                              actor=args.actor or "cli")
        source = str(args.backup)
    print(f"已从 {source} 恢复：{result['records']} 条案例；审计日志保留了全部 {result['carried']} 条记录。"
          f"原数据库已保留为 {result['kept']}（撤销：reformkb restore --undo）；向量索引将在下次检索时自动重建。")
    if result["not_carried"]:
        print(f"提示：备份中有 {result['not_carried']} 条修改记录不在当前审计日志中（来自另一段历史），"
              "未并入，仍保存在备份文件里。")
    return 0


def _new_secret(what: str, env: str) -> str:
    import getpass
    import os

    value = os.environ.get(env)
    if value is not None:
        return value
    first = getpass.getpass(f"{what}: ")
    if getpass.getpass("再输入一次 / again: ") != first:
        from reformkb.errors import InputError

        raise InputError("两次输入不一致，未作修改。")
    return first


def cmd_editors(args) -> int:
    import secrets

    from reformkb.auth import Editors

    editors = Editors.for_home(_settings(args).home)
    if args.action == "list":
        if not editors.enabled:
            print(f"单用户模式：没有 {editors.path}，任何人都可修改。用 reformkb editors add 姓名 设置编辑账号。")
            return 0
        config = editors.config()
        for name in editors.names():
            print(name)
        print(f"共享编辑密钥：{'已设置' if config.editor_key_hash else '未设置'}（{editors.path}）")
    elif args.action == "add":
        if not args.name:
            print("错误：请给出编辑姓名：reformkb editors add 张三", file=sys.stderr)
            return 2
        first = not editors.enabled
        name = editors.add_account(args.name, _new_secret(f"{args.name} 的新密码 / new password", "REFORMKB_PASSWORD"))
        print(f"已设置编辑账号“{name}”（{editors.path}）。")
        if first:
            print("从现在起，新增、修改、删除和导入都需要编辑登录；检索和浏览不受影响。")
    elif args.action == "remove":
        editors.remove_account(args.name or "")
        print(f"已删除编辑账号“{args.name}”。")
    elif args.action == "set-key":
        key = secrets.token_urlsafe(18) if args.generate else _new_secret("共享编辑密钥 / editor key", "REFORMKB_EDITOR_KEY")
        editors.set_key(key)
        print(f"已设置共享编辑密钥（{editors.path}）。" + (f"\n密钥：{key}\n请妥善转交编辑，本密钥不会再次显示。" if args.generate else ""))
    elif args.action == "clear-key":
        editors.clear_key()
        print("已取消共享编辑密钥。")
    return 0


def _add_filters(p) -> None:
    p.add_argument("--province", help="省份 / province, e.g. 湖南省")
    p.add_argument("--region", help="地区 / region (city or county), e.g. 长沙")
    p.add_argument("--topic", help="主题 / topic, e.g. 企业注销 (see: reformkb topics)")
    p.add_argument("--source", help="来源专报名称包含的文字 / text in the source bulletin's title")
    p.add_argument("--date-from", help="起始日期 / from date, 2023-01-01")
    p.add_argument("--date-to", help="截止日期 / to date, 2023-12-31")
    p.add_argument("--all-kinds", action="store_true", help="也检索工作动态 / include local actions (【战斗动态】)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="reformkb", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--home", help="知识库目录（含数据库和索引），默认为项目的 kb/ 与 index/；也可用环境变量 REFORMKB_HOME "
                                       "/ folder of the knowledge base")
    parser.add_argument("--model", help="向量模型目录或名称，默认 multilingual-e5-small-reformkb（带本项目的领域适配）；"
                                        "multilingual-e5-small 为不带适配的基础模型 / embedding model")
    parser.add_argument("--actor", help="操作人（单用户模式下记入审计日志） / who makes the change (single-user mode)")
    parser.add_argument("--user", help="编辑姓名（知识库设置了编辑账号时，修改需登录；密码取自 REFORMKB_PASSWORD 或提示输入）"
                                       " / editor name for sign-in")
    parser.add_argument("-v", "--verbose", action="store_true", help="显示调试信息 / debug logging")
    sub = parser.add_subparsers(dest="command", metavar="命令", title="命令 / commands")

    p = sub.add_parser("init", help="建立或打开知识库 / create or open the knowledge base")
    p.add_argument("--empty", action="store_true", help="不导入默认专报 / without the default content")
    p.add_argument("--rebuild-index", action="store_true", help="重建向量索引 / rebuild the vector index")
    p.set_defaults(func=cmd_init, writes=True)

    p = sub.add_parser(
        "import", help="导入专报（各种格式，见下）或案例表（.jsonl/.csv） / import files",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="导入专报或案例表 / import bulletins or record files.",
        epilog=IMPORT_FORMS)
    p.add_argument("files", nargs="+", type=Path, help="文件 / files")
    p.add_argument("--practices-only", action="store_true", help="只导入标杆经验，不导入本地工作动态 / skip local actions")
    p.add_argument("--dry-run", action="store_true",
                   help="只预览将新增、合并、跳过、拒绝的内容，不写入 / preview only, nothing stored")
    p.add_argument("--json", action="store_true", help="输出 JSON / print JSON")
    p.set_defaults(func=cmd_import, writes=True)

    p = sub.add_parser("add", help="新增一条案例 / add one practice")
    p.add_argument("text", help="做法正文（- 表示从标准输入读取） / the practice text, - for stdin")
    p.add_argument("--region", help="地区 / region, e.g. 长沙市 (default: from the text)")
    p.add_argument("--title", help="标题（≤20字，默认自动生成） / title")
    p.add_argument("--agency", help="单位 / agency")
    p.add_argument("--topics", help="主题，用分号分隔 / topics separated by ;")
    p.add_argument("--source", help="来源专报 / source bulletin title")
    p.add_argument("--date", help="日期 / date")
    p.add_argument("--ref", help="外部编号 / external key")
    p.set_defaults(func=cmd_add, writes=True)

    p = sub.add_parser("show", help="查看一条案例 / show a record")
    p.add_argument("id", type=int)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_show)

    p = sub.add_parser("edit", help="修改一条案例 / edit a record")
    p.add_argument("id", type=int)
    for name in ("text", "region", "title", "agency", "topics", "ref"):
        p.add_argument(f"--{name}")
    p.set_defaults(func=cmd_edit, writes=True)

    p = sub.add_parser("delete", help="删除一条案例 / delete a record")
    p.add_argument("id", type=int)
    p.set_defaults(func=cmd_delete, writes=True)

    p = sub.add_parser("undelete", help="从审计日志恢复已删除的案例 / restore a deleted record")
    p.add_argument("id", type=int)
    p.set_defaults(func=cmd_undelete, writes=True)

    p = sub.add_parser("search", help="检索 / search", description=MODEL_NOTE)
    p.add_argument("query", help="检索词 / query")
    p.add_argument("-k", type=int, default=10, help="返回条数 / number of hits (10)")
    p.add_argument("--mode", choices=["hybrid", "keyword", "semantic"], default="hybrid",
                   help="hybrid 智能（默认）/ keyword 关键词 / semantic 语义")
    _add_filters(p)
    p.add_argument("--as-typed", action="store_true", help=AS_TYPED_HELP)
    p.add_argument("--json", action="store_true", help="输出 JSON（含全部字段） / print hits as JSON")
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("similar", help="相似案例 / practices similar to a record")
    p.add_argument("id", type=int)
    p.add_argument("-k", type=int, default=5)
    p.add_argument("--same-region", action="store_true", help="也包括同一地区 / include the same region")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_similar)

    p = sub.add_parser("regions", help="各地区案例数 / practices per region")
    p.add_argument("--province", help="按省 → 市 → 县区、园区逐级统计，例如 广东 / drill down one province")
    p.add_argument("--unresolved", action="store_true",
                   help="列出地区待确认的案例（不在地区表中或有重名） / places to confirm")
    p.add_argument("--all-kinds", action="store_true", help="包括工作动态 / include local actions")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_regions)

    p = sub.add_parser("places", help="确认地区待确认的案例、新增地名 / confirm places, add a place of your own")
    p.add_argument("action", choices=["add", "confirm"],
                   help="add：新增地名（存入知识库目录的 places.tsv）；confirm：把待确认的地区改为已知地区")
    p.add_argument("name", help="地名，例如 大瑶镇；confirm 时为待确认的地区，例如 朝阳区 / the place")
    p.add_argument("--parent", help="add：所属的县、市或省，例如 浏阳市 / where it lies")
    p.add_argument("--to", help="confirm：确认为哪个地区，例如 长春市朝阳区 / the place it is")
    p.set_defaults(func=cmd_places)

    p = sub.add_parser("topics", help="主题分类及案例数 / the topic taxonomy with counts")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_topics)

    p = sub.add_parser("export", help="导出为 Excel、CSV、报告文字（docx）或 JSONL（保留全部字段，可再导入）")
    p.add_argument("output", type=Path, help="输出文件（扩展名决定格式：.xlsx .csv .docx .jsonl）")
    p.add_argument("--format", choices=["xlsx", "csv", "docx", "jsonl"], help="格式（默认按扩展名）")
    p.add_argument("--group-by", choices=["region", "topic", "none"], default="region",
                   help="docx 报告文字的分组：region 按地区（默认）、topic 按主题、none 不分组")
    p.add_argument("--query", help="只导出该检索的结果（高度相关和相关的） / export the strong and related hits of this query")
    p.add_argument("--include-weak", action="store_true",
                   help="--query 时也导出相关度较低的结果 / with --query, also export weak hits")
    p.add_argument("-k", type=int, default=50)
    p.add_argument("--mode", choices=["hybrid", "keyword", "semantic"], default="hybrid")
    p.add_argument("--as-typed", action="store_true", help=AS_TYPED_HELP)
    p.add_argument("--force", action="store_true",
                   help="替换已存在的同名文件（知识库自身的文件永远不会被覆盖） / replace an existing file")
    _add_filters(p)
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("stats", help="知识库概况 / statistics")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_stats)

    p = sub.add_parser("rebuild-index", help="重建向量索引（需编辑登录） / rebuild the vector index")
    p.set_defaults(func=cmd_rebuild, writes=True)

    p = sub.add_parser("backup", help="备份数据库（运行中也可） / back up the database (safe while in use)")
    p.add_argument("output", type=Path, help="备份文件（不能已存在，除非 --force） / the backup file to write")
    p.add_argument("--force", action="store_true",
                   help="替换已存在的同名文件（任何知识库的文件都不会被覆盖） / replace an existing file")
    p.set_defaults(func=cmd_backup)

    p = sub.add_parser("restore", help="从备份恢复数据库（需编辑登录） / replace the database with a backup")
    p.add_argument("backup", type=Path, nargs="?", help="reformkb backup 生成的文件 / a file made by reformkb backup")
    p.add_argument("--undo", action="store_true",
                   help="撤销上一次恢复（恢复它保留的原数据库） / undo the latest restore")
    p.set_defaults(func=cmd_restore, writes=True)

    p = sub.add_parser("editors", help="编辑账号与共享密钥 / editor accounts and the shared key")
    p.add_argument("action", choices=["list", "add", "remove", "set-key", "clear-key"])
    p.add_argument("name", nargs="?", help="编辑姓名（add/remove） / editor name")
    p.add_argument("--generate", action="store_true", help="set-key：随机生成并显示密钥 / generate and print a key")
    p.set_defaults(func=cmd_editors)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING, format="%(levelname)s %(message)s")
    for stream in (sys.stdout, sys.stderr):  # a file name with undecodable bytes must not crash a message
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        return args.func(args)
    except ReformKBError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    except EOFError:  # a password prompt without a terminal
        print("错误：需要输入密码，但没有可用的终端：请用环境变量 REFORMKB_PASSWORD 或 REFORMKB_EDITOR_KEY 提供。",
              file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into `head` and the like
        sys.stderr.close()
        return 0
    except OSError as exc:  # a file the command was given cannot be read or written
        print(f"错误：无法读写文件 {getattr(exc, 'filename', '') or ''}（{exc.strerror or exc}）："
              "请检查路径、文件权限和磁盘空间。", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("已中断：已完成的部分已保存，可重新运行同一命令补齐其余部分。", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
