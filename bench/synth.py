"""Synthetic practice records for the speed and size benchmarks (never shipped as content).

Every record is composed here from the gazetteer (:mod:`reformkb.ingest.regions`), agencies, measure
templates written for this file and random figures, in the style of a bulletin's 【战术借鉴】 section.
Nothing comes from the evaluation set. Each record's ``source_title`` starts with ``【合成数据】`` so a
synthetic record can never pass for a real one.

The stream is deterministic: ``records(n, seed)`` is a prefix of ``records(m, seed)`` for n < m, and
every text is distinct (distinct content hashes), so a vector cache filled for 100k records serves
every smaller size.

Vectors: the model's real embeddings of the first ``n`` records are cached in a knowledge base under
``bench/out/cache/`` (its vector table is keyed by content hash), filled through the facade with
``python -m bench.synth --fill-cache N``. For sizes beyond the cache (1M), :func:`derived_vectors`
makes a vector from a real one by a small random perturbation, renormalised (documented in
docs/benchmarks.md); :func:`harvest` copies the real vectors of an end-to-end ingest into the cache.
"""
from __future__ import annotations

import argparse
import functools
import json
import logging
import random
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

SYNTHETIC_MARK = "【合成数据】"
OUT = Path(__file__).resolve().parent / "out"
CACHE_HOME = OUT / "cache"
SEED = 20240601
NOISE = 0.25  # norm of the perturbation of a derived vector

# (agency, measure, figure sentences) per area. {a} > {b} are "before/after" figures, {n} a count,
# {p} a percentage, {m} an amount in 万元 or 亿元.
MEASURES: list[tuple[str, list[str], list[str]]] = [
    ("市场监管局", [
        "推行企业开办“一网通办、一窗通取”，营业执照、公章刻制、发票申领和社保登记一次提交",
        "实施经营主体名称自主申报和经营范围规范化登记，申请人可在线自助查询比对",
        "推行“一照多址”改革，企业在同一辖区增设经营场所免于办理分支机构登记",
        "开展“证照分离”改革全覆盖，对涉企经营许可事项实行分类管理",
        "推行简易注销和承诺制注销，未开业和无债权债务企业可在线申请",
    ], ["企业开办时间由{a}个工作日压缩至{b}个工作日", "全年新设经营主体{n}户，同比增长{p}%",
        "注销办理时间由{a}个工作日压缩至{b}个工作日", "惠及经营主体{n}户"]),
    ("住房城乡建设局", [
        "对社会投资简易低风险项目实行“一站式”审批，规划许可与施工许可合并办理",
        "推行工程建设项目联合验收，规划、消防、人防、档案等事项一次申请、限时办结",
        "推行施工图数字化联合审查，审查意见线上反馈、修改结果线上复核",
        "实施“拿地即开工”，将方案审查、工程规划许可和施工许可等环节前置办理",
        "对重大项目推行建筑工程施工许可分阶段办理，企业可边完善设计边施工",
    ], ["审批时间由{a}个工作日压缩至{b}个工作日", "项目开工时间平均提前{c}个月", "全年服务项目{n}个",
        "为企业节约成本约{m}万元"]),
    ("供电公司", [
        "推行低压小微企业用电报装“零上门、零审批、零投资”",
        "实行高压用户用电报装“一证受理”，外线工程行政审批实行并联办理",
        "推行电水气网联合报装，企业一次申请即可办理多项市政公用服务",
        "建设配电网可靠性提升工程，推行带电作业减少计划停电",
    ], ["接电时间由{a}天压缩至{b}天", "为用户节省投资约{m}万元", "供电可靠率达到{q}%",
        "全年服务小微企业{n}户"]),
    ("自然资源和规划局", [
        "推行不动产登记、交易和缴税“一窗受理、并行办理”",
        "推行新建商品房“交房即交证”，购房人收房当日即可领取不动产权证书",
        "实现不动产抵押登记“不见面办理”，银行网点可直接受理抵押申请",
        "推行工业项目“交地即交证”，企业签订出让合同后即可领取不动产权证书",
    ], ["一般登记办理时间由{a}个工作日压缩至{b}个工作日", "全年办理登记业务{n}件",
        "{p}%的业务实现一次办结"]),
    ("地方金融管理局", [
        "搭建中小企业融资综合信用服务平台，归集涉企信用信息向银行开放",
        "推出“中标贷”“订单贷”等信用贷款产品，中标企业凭中标通知书即可申请贷款",
        "实施无还本续贷和应收账款质押融资，缓解小微企业资金周转压力",
        "建立政府性融资担保体系，对首贷户给予担保费补贴",
    ], ["累计帮助企业获得贷款{m}亿元", "平均放款时间缩短至{b}天", "服务中小微企业{n}家",
        "担保费率降至{r}%"]),
    ("税务局", [
        "推行电子税务局“非接触式”办税，主要涉税事项全程网上办理",
        "推行增值税留抵退税“即申即审即退”，符合条件的企业无需提交纸质资料",
        "推出“税费政策找人”服务，依托大数据精准推送优惠政策",
        "推行数电发票全面应用，新办纳税人可当日领用发票",
    ], ["全年办税缴费时间压缩{p}%", "累计办理留抵退税{m}亿元", "惠及纳税人{n}户",
        "退税平均到账时间由{a}天压缩至{b}天"]),
    ("海关", [
        "推行进口货物“提前申报”和“两步申报”，货物抵港后即可提离",
        "建设国际贸易单一窗口，口岸通关物流信息一站查询",
        "推行鲜活农产品“绿色通道”，实行预约查验和优先放行",
        "实施出口货物“抵港直装”和进口货物“船边直提”",
    ], ["进口整体通关时间压缩至{c}小时", "出口整体通关时间压缩至{d}小时", "集装箱进出口环节合规成本下降{p}%",
        "服务进出口企业{n}家"]),
    ("人民法院", [
        "建设商事纠纷多元化解平台，推行诉前调解与司法确认衔接",
        "推行商事案件繁简分流，简单案件适用小额诉讼程序快速审理",
        "建立府院联动机制，统筹处置破产企业资产、职工安置和信用修复",
        "推行破产案件预重整和简易破产程序，提高企业挽救效率",
        "推行网上立案、跨域立案和电子送达，当事人足不出户即可参与诉讼",
    ], ["商事案件平均审理周期缩短至{e}天", "全年化解商事纠纷{n}件", "破产案件平均审理时间压缩{p}%",
        "盘活资产{m}亿元"]),
    ("公共资源交易中心", [
        "推行招标投标全流程电子化，投标人可远程开标、不见面交易",
        "全面取消政府采购投标保证金，推行电子保函替代现金保证金",
        "推行政府采购合同融资，中小企业凭采购合同可在线申请贷款",
        "建立评标专家动态管理和评标过程全程留痕机制",
    ], ["为企业释放保证金{m}亿元", "全年完成交易项目{n}个", "交易成本下降{p}%",
        "开标时间由{a}天缩短至{b}天"]),
    ("政务服务中心", [
        "推行“高效办成一件事”，将多个关联事项整合为一次申请、一次办结",
        "设置24小时自助服务区，群众可自助打印证照和办理高频事项",
        "建设“无证明城市”，通过电子证照共享实现证明材料免提交",
        "推行惠企政策“免申即享”，系统自动比对符合条件的企业并直接兑现",
        "设立“办不成事”反映窗口，由专人协调解决企业群众办事堵点",
    ], ["{n}项政务服务事项实现全程网办", "办事材料平均减少{p}%", "累计兑现惠企资金{m}万元",
        "群众满意度达到{q}%"]),
    ("发展改革委", [
        "建立政企沟通圆桌会议制度，每月由市领导听取企业诉求并现场协调",
        "建立营商环境监督员制度，聘请企业代表对涉企服务进行监督",
        "开展营商环境评价，评价结果纳入部门绩效考核",
        "建立信用承诺制度，对守信企业实行容缺受理和绿色通道",
    ], ["累计收集解决企业诉求{n}件", "企业诉求办结率达到{q}%", "涉企问题平均办理时间缩短{p}%"]),
    ("人力资源社会保障局", [
        "推行社保业务“一网通办”，企业参保登记与营业执照同步办理",
        "建立劳动争议多元处理机制，推行线上调解和仲裁",
        "开展零工市场建设，为灵活就业人员提供岗位对接服务",
    ], ["社保登记时间压缩至{b}个工作日", "全年调处劳动争议案件{n}件", "服务求职者{n}人次"]),
    ("知识产权局", [
        "建设知识产权保护中心，为企业提供专利快速预审和维权援助",
        "推行知识产权质押融资，帮助科技型企业以专利获得贷款",
    ], ["专利授权周期缩短至{c}个月", "累计实现质押融资{m}亿元", "服务创新主体{n}家"]),
]
# The topic of each agency's measures (used only on the bulk-load path, where records carry their fields).
AGENCY_TOPIC = {"市场监管局": "开办企业", "住房城乡建设局": "工程建设审批", "供电公司": "获得电力",
                "自然资源和规划局": "登记财产", "地方金融管理局": "获得信贷", "税务局": "纳税", "海关": "跨境贸易",
                "人民法院": "执行合同", "公共资源交易中心": "招标投标", "政务服务中心": "政务服务",
                "发展改革委": "政企沟通", "人力资源社会保障局": "劳动力市场监管", "知识产权局": "知识产权"}
LEADS = ["", "", "聚焦企业群众办事堵点，", "在全省率先", "依托政务服务平台，", "坚持问题导向，",
         "对标先进地区经验，", "以数字化改革为牵引，", "围绕市场主体全生命周期，"]
CLOSERS = ["", "", "相关做法被国务院办公厅通报表扬。", "相关经验在全省推广。", "改革以来企业获得感明显增强。",
           "该做法入选全国优化营商环境典型案例。", "下一步将扩大试点范围。"]

# Queries for latency: written for the benchmark, in the words staff would use (not eval queries).
QUERIES = [
    "企业注销提速", "企业开办一网通办", "一照多址", "简易低风险项目审批", "联合验收", "施工许可分阶段办理",
    "拿地即开工", "用电报装零上门", "水电气网联合报装", "不动产登记一窗受理", "交房即交证", "抵押登记不见面",
    "中小企业融资难", "中标贷", "无还本续贷", "留抵退税", "电子税务局非接触办税", "数电发票",
    "进口通关时间压缩", "单一窗口", "鲜活农产品通关", "商事纠纷诉前调解", "破产府院联动", "预重整",
    "招投标全流程电子化", "取消投标保证金", "政府采购合同融资", "高效办成一件事", "24小时自助服务",
    "无证明城市", "惠企政策免申即享", "办不成事窗口", "政企沟通圆桌会", "营商环境监督员", "信用承诺容缺受理",
    "社保登记与营业执照同步", "劳动争议线上调解", "知识产权快速预审", "专利质押融资",
    "how to speed up business registration", "怎么让企业少跑腿", "企业反映审批时间太长怎么办",
]


def regions() -> list:
    """Every region in the gazetteer: provinces, their cities and (where held) counties."""
    from reformkb.ingest.regions import gazetteer

    g = gazetteer()
    out = []
    for prov in g.provinces():
        out.append(prov)
        for city in g.children(prov.name):
            if city.name == prov.name:
                continue
            out.append(city)
            out += g.children(city.name)
    return out


def _figures(rng: random.Random) -> dict:
    a = rng.randint(3, 60)
    return dict(a=a, b=rng.choice([0.5, 1, 2, 3, max(1, a // 4)]), c=rng.randint(2, 18), d=round(rng.uniform(0.5, 48), 1),
                e=rng.randint(20, 180), n=rng.randint(12, 98000), p=rng.randint(10, 90), m=round(rng.uniform(0.1, 900), 1),
                q=round(rng.uniform(90, 99.99), 2), r=round(rng.uniform(0.3, 1.5), 2))


def records(n: int, seed: int = SEED, derived: bool = False) -> Iterator[dict]:
    """The first ``n`` synthetic records of the stream (dicts as a record file would hold them).

    With ``derived``, each record also carries its title, topic and agency (known here, from the
    template), so the knowledge base need not derive them: the bulk-load path used for 1M records.
    The texts are the same either way."""
    rng = random.Random(seed)
    places = regions()
    seen: set[str] = set()
    i = 0
    while i < n:
        region = rng.choice(places)
        agency, measures, figures = rng.choice(MEASURES)
        measure = rng.choice(measures)
        f1, f2 = rng.sample(figures, 2) if len(figures) > 1 else (figures[0], figures[0])
        figs = _figures(rng)
        who = rng.choice([region.name, f"{region.name}{agency}"])
        text = (f"{who}{rng.choice(LEADS)}{measure}，{f1.format(**figs)}，{f2.format(**figs)}。"
                f"{rng.choice(CLOSERS)}")
        if text in seen:
            continue
        seen.add(text)
        i += 1
        issue = 1 + (i - 1) // 40
        year = 2019 + (issue // 60) % 6
        extra = {}
        if derived:
            extra = {"title": measure.split("，")[0].strip("“”")[:20], "topics": [AGENCY_TOPIC[agency]],
                     "agency": who[len(region.name):]}
        yield {
            **extra,
            "text": text,
            "region": region.name,
            "source_title": f"{SYNTHETIC_MARK}营商环境工作专报（基准测试用，非真实案例）",
            "source_issue": f"第{issue}期",
            "source_date": f"{year}-{1 + issue % 12:02d}-{1 + issue % 28:02d}",
            "source_section": "战术借鉴",
            "kind": "practice",
        }


def write_jsonl(rows: list[dict], directory: Path, chunk: int = 10_000) -> list[Path]:
    """Record files of at most ``chunk`` rows (the import limit is 20 MB per file)."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for start in range(0, len(rows), chunk):
        path = directory / f"synthetic-{start // chunk:04d}.jsonl"
        with open(path, "w", encoding="utf-8") as f:
            for row in rows[start : start + chunk]:
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
        paths.append(path)
    return paths


# -- the vector cache ---------------------------------------------------------------------------
def open_cache():
    """The cache knowledge base (its vector table holds real embeddings of the stream's prefix)."""
    from reformkb import KnowledgeBase

    return KnowledgeBase(CACHE_HOME, empty=True, actor="bench-cache")


def cached_count() -> int:
    """How many real vectors the cache holds."""
    if not (CACHE_HOME / "reformkb.db").exists():
        return 0
    with open_cache() as kb:
        return kb.store.vector_count(kb.keeper.model_key)


def fill_cache(n: int, log=print) -> dict:
    """Embed the first ``n`` records through the facade (only those not cached yet); returns timings."""
    with open_cache() as kb:
        have = kb.count()
        if have >= n:
            return {"cached": have, "added": 0}
        rows = list(records(n))[have:]
        t0 = time.perf_counter()
        for start in range(0, len(rows), 5000):
            batch = [kb.prepare(r) for r in rows[start : start + 5000]]
            kb.store_records(batch)
            log(f"cache: {have + start + len(batch)}/{n} records embedded ({time.perf_counter() - t0:.0f} s)", flush=True)
        return {"cached": kb.count(), "added": len(rows), "seconds": time.perf_counter() - t0}


def harvest(kb) -> int:
    """Copy the records of knowledge base ``kb`` (built from this stream's prefix) and their real
    vectors into the cache; the records are what later lookups by text find the vectors through."""
    records_ = kb.records()
    from reformkb.records import vector_key

    found = kb.store.get_vectors(kb.keeper.model_key, [vector_key(r) for r in records_])
    have = [r for r in records_ if vector_key(r) in found]
    with open_cache() as cache:
        for start in range(0, len(have), 20_000):
            chunk = have[start : start + 20_000]
            cache.put_vectors(chunk, np.vstack([found[vector_key(r)] for r in chunk]))
            cache.store_records(chunk)  # embeds nothing: every vector is cached; a record held already is skipped
    _cache_keys.cache_clear()
    return len(have)


@functools.lru_cache(maxsize=1)
def _cache_keys() -> dict[str, str]:
    """Text hash → vector-cache key (a hash of everything embedded) of the cache's records."""
    from reformkb.records import vector_key

    if not (CACHE_HOME / "reformkb.db").exists():
        return {}
    with open_cache() as kb:
        return {r.content_hash: vector_key(r) for r in kb.records()}


def _hashes(texts: list[str]) -> list[str]:
    """The cache keys of these texts (their text hash where the cache has no record of them)."""
    from reformkb.records import clean_text, content_hash

    keys = _cache_keys()
    return [keys.get(h, h) for h in (content_hash(clean_text(t)) for t in texts)]


@functools.lru_cache(maxsize=1)
def _base() -> np.ndarray:
    """Every real vector in the cache, in content-hash order (the sources of derived vectors)."""
    with open_cache() as kb:
        rows = kb.store.db.execute("SELECT vector FROM vectors WHERE model = ? ORDER BY content_hash",
                                   [kb.keeper.model_key]).fetchall()
    if not rows:
        raise SystemExit("the vector cache is empty: python -m bench.synth --fill-cache 100000")
    return np.vstack([np.frombuffer(r[0], dtype=np.float32) for r in rows])


def derived_vector(h: str, noise: float = NOISE) -> np.ndarray:
    """The stand-in vector of the text with content hash ``h``: a real vector chosen by the hash, plus
    Gaussian noise of norm about ``noise`` seeded by the hash, renormalised (cosine to its source ≈ 0.97).
    A function of the text alone, so reformkb and txtai get the same vector."""
    base = _base()
    v = base[int(h[:8], 16) % len(base)]
    jitter = np.random.default_rng(int(h[8:16], 16)).standard_normal(v.shape[0]).astype(np.float32)
    v = v + jitter * (noise / np.sqrt(v.shape[0]))
    return v / np.linalg.norm(v)


def vectors_for(texts: list[str]) -> tuple[np.ndarray, int]:
    """Vectors for these texts: real ones from the cache where it has them, the others derived
    (:func:`derived_vector`); and how many are real."""
    hashes = _hashes(texts)
    with open_cache() as kb:
        found = {}
        for start in range(0, len(hashes), 50_000):
            found.update(kb.store.get_vectors(kb.keeper.model_key, hashes[start : start + 50_000]))
    out = np.empty((len(texts), _base().shape[1]), dtype=np.float32)
    for i, h in enumerate(hashes):
        out[i] = found[h] if h in found else derived_vector(h)
    return out, sum(1 for h in hashes if h in found)


def cached_vectors(texts: list[str]) -> np.ndarray | None:
    """Real vectors for these texts from the cache, or None if any is missing."""
    hashes = _hashes(texts)
    with open_cache() as kb:
        found = kb.store.get_vectors(kb.keeper.model_key, hashes)
    if len(found) < len(hashes):
        return None
    return np.vstack([found[h] for h in hashes])


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="Synthetic records and the benchmark's vector cache.")
    ap.add_argument("--fill-cache", type=int, metavar="N", help="embed the first N records into bench/out/cache")
    ap.add_argument("--sample", type=int, metavar="N", help="print N records as JSONL")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    if args.sample:
        for row in records(args.sample):
            print(json.dumps(row, ensure_ascii=False))
    if args.fill_cache:
        print(json.dumps(fill_cache(args.fill_cache), ensure_ascii=False))


if __name__ == "__main__":
    main()
