"""The region gazetteer: the shipped data, how names are looked up, and how regions are found in text."""
from __future__ import annotations

import dataclasses

import pytest

from reformkb.errors import InputError
from reformkb.ingest import regions
from reformkb.ingest.regions import Gazetteer, Region, gazetteer, normalize


@pytest.fixture(scope="module")
def gaz() -> Gazetteer:
    return gazetteer()


def all_regions(gaz: Gazetteer) -> list[Region]:
    """Every region, reached from the provinces down through children(), and the zones of each province."""
    found = []
    for province in gaz.provinces():
        found.append(province)
        for city in gaz.children(province.name):
            found.append(city)
            found.extend(gaz.children(city))
        found.extend(gaz.zones(province.name))
    return found


# -- the data ----------------------------------------------------------------------------------


def test_34_provincial_level_units(gaz):
    provinces = gaz.provinces()
    names = [p.name for p in provinces]
    assert len(provinces) == 34
    assert sum(n.endswith("省") for n in names) == 23  # including 台湾省
    assert "台湾省" in names
    assert sum(n.endswith("自治区") for n in names) == 5
    assert {"北京市", "天津市", "上海市", "重庆市"} <= set(names)
    assert sum(n.endswith("特别行政区") for n in names) == 2


def test_prefecture_level_counts(gaz):
    cities = [r for r in all_regions(gaz) if r.level == "city"]
    assert 330 <= len(cities) <= 340
    assert len(gaz.children("湖南省")) == 14
    hunan_counties = [r for r in all_regions(gaz) if r.level == "county" and r.province == "湖南省"]
    assert len(hunan_counties) == 122


def test_every_region_is_reachable_from_the_provinces(gaz):
    assert len(all_regions(gaz)) == len(gaz)


def test_codes_are_unique_six_digits_and_nest(gaz):
    everything = [r for r in all_regions(gaz) if r.level != "zone"]
    codes = [r.code for r in everything]
    assert len(set(codes)) == len(codes)
    assert all(len(c) == 6 and c.isdigit() for c in codes)
    for province in gaz.provinces():
        assert province.code.endswith("0000")
        for city in gaz.children(province.name):
            assert city.code[:2] == province.code[:2], city
            assert city.province == province.name
            if province.city == province.name:  # a municipality: its districts and counties
                assert city.level == "county" and city.city == province.name, city
            elif city.level == "county":  # run by the province itself (仙桃市, 五指山市)
                assert city.city is None, city
            else:
                assert city.city == city.name
            for county in gaz.children(city):
                assert county.code[:4] == city.code[:4], county
                assert county.city == city.name and county.province == province.name


@pytest.mark.parametrize(
    "name, province",
    [
        ("深圳", "广东省"),
        ("哈尔滨", "黑龙江省"),
        ("梅州", "广东省"),
        ("濮阳", "河南省"),
        ("温州", "浙江省"),
        ("株洲", "湖南省"),
        ("衡阳", "湖南省"),
        ("邵阳", "湖南省"),
        ("益阳", "湖南省"),
        ("长沙", "湖南省"),
    ],
)
def test_cities_lie_in_their_province(gaz, name, province):
    region = gaz.lookup(name)
    assert region is not None and region.level == "city"
    assert region.province == province
    assert region.name == name + "市"


def test_provinces_and_municipalities(gaz):
    hainan = gaz.lookup("海南省")
    assert (hainan.level, hainan.province, hainan.city) == ("province", "海南省", None)
    beijing = gaz.lookup("北京")
    assert (beijing.name, beijing.level, beijing.city) == ("北京市", "province", "北京市")
    districts = gaz.children("北京市")  # a municipality's districts are its children
    assert len(districts) == 16 and gaz.lookup("北京市朝阳区") in districts
    assert all(d.level == "county" and d.city == "北京市" for d in districts)


@pytest.mark.parametrize(
    "name, short",
    [
        ("长沙市", "长沙"),
        ("湖南省", "湖南"),
        ("广西壮族自治区", "广西"),
        ("内蒙古自治区", "内蒙古"),
        ("新疆维吾尔自治区", "新疆"),
        ("湘西土家族苗族自治州", "湘西"),
        ("恩施土家族苗族自治州", "恩施"),
        ("大兴安岭地区", "大兴安岭"),
        ("北京市", "北京"),
        ("香港特别行政区", "香港"),
        ("浏阳市", "浏阳"),
        ("江华瑶族自治县", "江华"),
        # A short form that would repeat a higher unit's, or be one character, is the full name.
        ("吉林市", "吉林市"),
        ("长沙县", "长沙县"),
        ("攸县", "攸县"),
        ("海南藏族自治州", "海南州"),
    ],
)
def test_short_forms(gaz, name, short):
    region = gaz.lookup(name)
    assert region.short == short
    assert gaz.lookup(short) == region


def test_county_of_hunan(gaz):
    liuyang = gaz.lookup("浏阳")
    assert liuyang == gaz.lookup("浏阳市")
    assert (liuyang.level, liuyang.city, liuyang.province) == ("county", "长沙市", "湖南省")
    assert liuyang in gaz.children("长沙")
    assert gaz.children("浏阳市") == []


def test_source_data_is_brought_up_to_date(gaz):
    assert gaz.lookup("莱芜市") is None  # merged into 济南 in 2019, as 莱芜区
    assert gaz.lookup("莱芜").name == "莱芜区" and gaz.lookup("莱芜").city == "济南市"
    assert gaz.lookup("济南").code == "370100"
    assert gaz.lookup("海东").level == "city"
    assert gaz.lookup("那曲").name == "那曲市"  # was 那曲地区
    for name, code in [("宁乡市", "430182"), ("渌口区", "430212"), ("邵东市", "430582"), ("祁阳市", "431181")]:
        region = gaz.lookup(name)
        assert (region.code, region.level) == (code, "county")
    assert gaz.lookup("株洲县") is None


# -- lookup ------------------------------------------------------------------------------------


@pytest.mark.parametrize("written", ["长沙", "长沙市", " 长沙市 ", "湖南省长沙市", "湖南长沙", "湖南省 长沙市", "长沙市。", "430100"])
def test_lookup_accepts_the_usual_ways_of_writing_a_city(gaz, written):
    assert gaz.lookup(written).name == "长沙市"


def test_lookup_prefers_full_names_then_higher_levels(gaz):
    assert gaz.lookup("海南").name == "海南省"  # not 海南藏族自治州
    assert gaz.lookup("吉林").name == "吉林省"
    assert gaz.lookup("资阳").name == "资阳市"  # in Sichuan; 益阳's district is 资阳区
    assert gaz.lookup("资阳区").city == "益阳市"


def test_lookup_aliases_and_chains(gaz):
    assert gaz.lookup("湘西州").name == "湘西土家族苗族自治州"
    assert gaz.lookup("海南州").province == "青海省"
    assert gaz.lookup("通道县").name == "通道侗族自治县"
    assert gaz.lookup("香港特区").name == "香港特别行政区"
    assert gaz.lookup("广西区").name == "广西壮族自治区"
    assert gaz.lookup("长沙浏阳").name == "浏阳市"
    assert gaz.lookup("益阳市资阳区").name == "资阳区"
    assert gaz.lookup("湖南深圳") is None  # 深圳 is not in 湖南


@pytest.mark.parametrize("name", ["", "   ", "！！", "\u3000", "火星", "长沙市火星区", "999999"])
def test_lookup_of_nothing_or_unknown_is_none(gaz, name):
    assert gaz.lookup(name) is None


def test_normalize(gaz):
    assert normalize("湖南长沙") == gaz.lookup("长沙市")
    with pytest.raises(InputError) as excinfo:
        normalize("火星市")
    assert str(excinfo.value) == "未知地区“火星市”：请填写省、市或县的名称，例如“长沙市”或“湖南省”。"
    with pytest.raises(InputError):
        normalize("")


def test_children_of_an_unknown_region_is_an_input_error(gaz):
    with pytest.raises(InputError, match="未知地区"):
        gaz.children("火星")


# -- finding regions in text --------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, name, span",
    [
        ("长沙市加快建设“无证明城市”，企业注销由20个工作日压缩至0.5个工作日。", "长沙市", "长沙市"),
        ("海南省自《海南自由贸易港优化营商环境条例》施行以来……", "海南省", "海南省"),
        ("深圳市实施商事登记确认制。", "深圳市", "深圳市"),
        ("濮阳市纪委监委出台优化营商环境十条措施。", "濮阳市", "濮阳市"),
        ("衡阳市不动产登记中心推行“交房即交证”。", "衡阳市", "衡阳市"),
        ("湖北省印发《关于进一步优化营商环境的意见》。", "湖北省", "湖北省"),
        ("长沙加快推进“一件事一次办”。", "长沙市", "长沙"),
        ("湖南省长沙市浏阳市推行项目审批“一窗通办”。", "浏阳市", "湖南省长沙市浏阳市"),
        ("  （一）湖南长沙：打造……", "长沙市", "湖南长沙"),
        ("一是哈尔滨市推行……", "哈尔滨市", "哈尔滨市"),
        ("湘西州推行……", "湘西土家族苗族自治州", "湘西州"),
        ("广西区市场监管局推行……", "广西壮族自治区", "广西区"),
        ("益阳市南县推行……", "南县", "益阳市南县"),
    ],
)
def test_find_leading(gaz, text, name, span):
    region, matched = gaz.find_leading(text)
    assert region.name == name
    assert matched == span
    assert span in text


@pytest.mark.parametrize(
    "text",
    [
        "市税务局创新推出“非接触式”办税。",
        "我省出台……",
        "南京路步行街改造……",  # a street, not 南京市
        "会同有关部门建立联席会议制度。",  # 会同县's short form is an everyday word
        "阿里巴巴与当地政府签约。",
        "海南岛东部……",  # an island, not 海南省
        "",
    ],
)
def test_find_leading_none(gaz, text):
    assert gaz.find_leading(text) is None


def test_find_all_in_order_of_first_appearance(gaz):
    text = "学习借鉴长沙、深圳和海南自由贸易港的做法，长沙市再次提速；湖南省益阳市资阳区、湘西州也在推进。"
    assert [r.name for r in gaz.find_all(text)] == [
        "长沙市",
        "深圳市",
        "海南省",
        "湖南省",
        "益阳市",
        "资阳区",
        "湘西土家族苗族自治州",
    ]


def test_find_all_avoids_everyday_words(gaz):
    text = "会同有关部门开辟绿色通道，街道县级联动，阿里巴巴入驻，确保长治久安，南京路改造。"
    assert gaz.find_all(text) == []
    # ...but a short form followed by a word about the region itself still counts.
    assert [r.name for r in gaz.find_all("湖南县域经济与长沙区域协调")] == ["湖南省", "长沙市"]
    assert gaz.find_all("会同县和通道侗族自治县") == [gaz.lookup("会同县"), gaz.lookup("通道县")]


# -- loading -----------------------------------------------------------------------------------


def test_loading_is_cached():
    # Load time (about 24 ms for 3,526 units on an idle machine) is a figure for the benchmark, not a
    # timed assertion that a busy machine can break.
    regions.gazetteer.cache_clear()
    assert regions.gazetteer() is regions.gazetteer()


def test_regions_are_immutable(gaz):
    with pytest.raises(dataclasses.FrozenInstanceError):
        gaz.lookup("长沙").name = "x"


@pytest.mark.parametrize("text, first", [("海口、三亚两市推行", "海口市"), ("大同、朔州等地", "大同市"),
                                         ("海口推行", None), ("夸下海口、拍胸脯", None), ("通道、窗口", None)])
def test_an_everyday_short_name_is_a_place_only_in_a_list_of_places(text, first):
    found = gazetteer().find_leading(text)
    assert (found[0].name if found else None) == first
