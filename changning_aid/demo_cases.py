"""The demo's people in hardship and the four checklists' rows, for `manage.py seed_demo`.

Changning at its real size: about 32,000 people in hardship (困难人员) spread over the
committees (each committee's share follows a weight drawn from its code; every 17th committee
is an old neighbourhood about two and a half times as large), of whom about 10,000 are
current recipients (现有救助对象) today and some have left the register; their needs
(checklist 2), the resource list (checklist 3: 80 policies, 50 social organisations, 130
caring enterprises, funds, projects, volunteering and charity, mostly district-wide) and a
year of services (checklist 4) by the advisors at their stations, with evaluations and a few
list reviews. Each person with a responsible advisor has the open charge that names them
(`cases.AdvisorCharge`, see `advisor_charges`). `--small` seeds a handful of people per
committee of the streets it loads. The monthly visits are `demo_visits`'s.

Deterministic: every choice comes from a `random.Random` seeded with a division code, and
dates are counted back from `today`. Idempotent: a street gets its people, charges, needs,
services, evaluations and reviews only while it has no people; the district's shared
resources only while it has none, a street's own resources only while it has none.

Written in bulk for speed, so the models' `save()` is skipped and done here instead: the
numbers (档案号 DA, 需求 XQ, 资源 ZY, 服务 FW + street or district code + sequence, as
`cases.models` makes them), the derived fields of a person (`Recipient.refresh_derived`), and
the realistic timestamps of needs, services and evaluations (set after the insert, which
would stamp them now). ID numbers are encrypted like any other (`EncryptedIdNumberField`).
"""

import datetime
import random
from collections import defaultdict

from django.db.models import DateTimeField, ExpressionWrapper, F, Q
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone

from accounts.choices import Role
from accounts.models import User
from advisors.choices import FilingStatus
from advisors.models import AdvisorStation
from cases.choices import (
    AreaLevel,
    Checklist,
    EvaluationSource,
    Gender,
    HardshipLevel,
    NeedCategory,
    NeedSource,
    NeedStatus,
    Rating,
    RecipientStatus,
    ResourceType,
    ServiceItem,
    ServiceStep,
    ServiceTask,
    Urgency,
)
from cases.models import (
    FILE_NUMBER_PREFIX,
    NEED_NUMBER_PREFIX,
    RESOURCE_NUMBER_PREFIX,
    SERVICE_NUMBER_PREFIX,
    AdvisorCharge,
    AssistanceCategory,
    ChecklistReview,
    CurrentPeriod,
    Evaluation,
    KeyGroup,
    Need,
    NeedResource,
    Recipient,
    RecipientCategory,
    RecipientKeyGroup,
    Resource,
    ServiceRecord,
)
from changning_aid.numbering import next_number
from changning_aid.sensitive.fields import hash_id_number
from changning_aid.sensitive.idnumbers import check_character
from stations.choices import StationKind, StationStatus
from stations.models import Committee, District, Station, Street
from visits import summaries

# How many people: the full district's total, spread over all its committees; `--small`
# gives each committee of the streets it loads this many on average.
PEOPLE_TOTAL = 32_000
SMALL_PEOPLE_PER_COMMITTEE = 6
LARGE_COMMITTEE_EVERY, LARGE_COMMITTEE_AT, LARGE_COMMITTEE_FACTOR = 17, 5, 2.6

# Shares of the people: current recipients today, and those who left the register.
CURRENT_SHARE = 0.31
EXITED_SHARE = 0.08

BATCH = 2000

# How far back the demo's charges of responsible advisors (`AdvisorCharge`) reach at most:
# before the twelve months of visits (`demo_visits`), so that every month has its advisor.
CHARGE_HISTORY_DAYS = 400

# The birth places of ID numbers: mostly 长宁区, some other districts of Shanghai (310103 is
# the former 卢湾区, still on older cards).
AREA_CODES = (
    ("310105", 70),
    ("310104", 6),
    ("310106", 5),
    ("310107", 5),
    ("310112", 4),
    ("310101", 4),
    ("310103", 3),
    ("310110", 3),
)

SURNAMES_COMMON = "张王李陈徐朱周吴沈陆顾刘杨黄钱孙胡金赵郭"
SURNAMES_OTHER = (
    "何林高罗郑梁谢宋唐许韩冯邓曹彭萧田董袁潘蒋蔡余杜叶程苏魏吕丁任姚卢姜崔钟谭"
    "汪范石廖贾夏方邹孟熊秦邱江尹薛严倪施龚邵万戴汤"
)
# Given names by generation: the elderly's, the middle-aged's, the young's and children's.
GIVEN_NAMES = {
    ("old", Gender.FEMALE): "秀英 桂英 凤英 秀珍 玉珍 桂兰 玉兰 金娣 杏娣 彩凤 月娥 美娟 宝珍 "
    "雪琴 菊芳 根娣 阿妹 素珍 惠珍 琴芳",
    ("old", Gender.MALE): "国强 建国 德明 根宝 金根 阿三 福林 志华 荣生 永康 德兴 海根 "
    "炳荣 国华 伯年 家骏 永福 庆余 桂林 水根",
    ("mid", Gender.FEMALE): "丽华 美玲 红梅 建英 慧敏 晓燕 卫红 秀芳 敏华 静 丽 燕 艳 "
    "雪芳 玉萍 春燕 海燕 月华 佩玲 琳",
    ("mid", Gender.MALE): "建华 卫东 志强 伟 军 勇 明 海峰 国平 建平 晓东 春华 文斌 "
    "志刚 永明 立新 卫国 俊 斌 洪",
    ("young", Gender.FEMALE): "婷婷 佳 颖 雯 倩 怡 蕾 晨 欣 悦 雅琴 佳慧 思佳 文婷 "
    "晓雯 嘉怡 诗韵 静怡 梦洁 雪莹",
    ("young", Gender.MALE): "磊 涛 杰 浩 鹏 超 宇 俊杰 晓峰 嘉伟 文杰 子豪 家豪 "
    "志远 昊天 天宇 逸飞 晨阳 浩然 一鸣",
    ("child", Gender.FEMALE): "子涵 欣怡 梓涵 诗涵 雨桐 可馨 一诺 语嫣 思琪 若汐 "
    "梓萱 佳怡 乐瑶 心怡 雨欣",
    ("child", Gender.MALE): "浩然 梓轩 子墨 宇轩 俊熙 皓轩 梓豪 子睿 一鸣 沐阳 "
    "奕辰 博文 宇航 天佑 铭泽",
}
GIVEN_NAMES = {key: tuple(value.split()) for key, value in GIVEN_NAMES.items()}

MOBILE_PREFIXES = ("130", "131", "133", "135", "136", "137", "138", "139", "150", "151")
MOBILE_PREFIXES += ("152", "158", "159", "177", "180", "186", "187", "189")

CATEGORY_WEIGHTS = (
    ("低保", 40),
    ("低收入", 24),
    ("支出型贫困", 9),
    ("特困供养", 5),
    ("临时救助", 12),
    ("其他困难", 10),
)
EXIT_REASONS = (
    "家庭收入超过认定标准",
    "迁出本区",
    "本人去世",
    "本人申请退出",
    "就业后收入稳定，不再符合条件",
    "家庭财产状况发生变化，不再符合条件",
)

NEED_WEIGHTS = (
    (NeedCategory.LIVING, 25),
    (NeedCategory.MEDICAL, 22),
    (NeedCategory.CARE, 12),
    (NeedCategory.HOUSING, 8),
    (NeedCategory.EDUCATION, 6),
    (NeedCategory.EMPLOYMENT, 10),
    (NeedCategory.PSYCHOLOGICAL, 8),
    (NeedCategory.OTHER, 5),
)
NEED_DESCRIPTIONS = {
    NeedCategory.LIVING: (
        "家庭收入低，日常生活开支困难，希望申请生活救助",
        "冬季取暖和用电开支大，需要生活物资帮助",
        "独自居住，做饭不便，希望就近助餐",
        "家中电器老化损坏，无力更换",
    ),
    NeedCategory.MEDICAL: (
        "患慢性病长期服药，自付医疗费用负担重",
        "住院手术后自付费用较高，申请医疗救助",
        "需要定期透析，交通和医疗开支大",
        "需要配置助听器和老花镜",
    ),
    NeedCategory.CARE: (
        "行动不便，需要居家照护和助浴服务",
        "子女在外地，老人需要日常看护",
        "失能老人家属照护压力大，需要喘息服务",
        "术后康复期需要上门护理",
    ),
    NeedCategory.HOUSING: (
        "住房老旧潮湿，需要适老化改造",
        "租房居住，房租负担重，咨询租赁补贴",
        "卫生间地面湿滑，需要加装扶手",
    ),
    NeedCategory.EDUCATION: (
        "子女上学费用负担重，申请教育资助",
        "孩子学习跟不上，需要课业辅导",
        "高考录取后学费和住宿费有困难",
    ),
    NeedCategory.EMPLOYMENT: (
        "失业在家，希望推荐就业岗位",
        "希望参加职业技能培训后再就业",
        "身体原因只能从事轻体力工作，需要合适岗位",
    ),
    NeedCategory.PSYCHOLOGICAL: (
        "丧偶后情绪低落，需要心理疏导",
        "长期独居，孤独感强，希望有人陪伴聊天",
        "家庭矛盾较多，需要心理和家庭关系辅导",
    ),
    NeedCategory.OTHER: (
        "需要法律咨询，处理遗产和赡养纠纷",
        "证件遗失，需要协助补办",
        "不会使用智能手机，需要帮助办理线上业务",
    ),
}
# Words of a resource's name and offers that make it fit a need of the category.
NEED_KEYWORDS = {
    NeedCategory.LIVING: ("生活", "低保", "助餐", "物资", "慰问", "临时救助", "帮扶", "补贴"),
    NeedCategory.MEDICAL: ("医疗", "医", "药", "健康", "大病", "透析"),
    NeedCategory.CARE: ("照护", "护理", "养老", "助老", "居家", "长护", "助浴"),
    NeedCategory.HOUSING: ("住房", "租赁", "改造", "适老", "维修"),
    NeedCategory.EDUCATION: ("教育", "助学", "儿童", "学生", "课业", "青少年"),
    NeedCategory.EMPLOYMENT: ("就业", "岗位", "培训", "职业"),
    NeedCategory.PSYCHOLOGICAL: ("心理", "陪伴", "关爱", "疏导"),
    NeedCategory.OTHER: ("法律", "咨询", "志愿", "代办", "数字"),
}
UNRESOLVABLE_REASONS = (
    "经核查家庭收入和财产超过救助标准，已做好解释",
    "本人拒绝接受服务",
    "所需资源暂缺，已列入后续关注",
    "已迁出本区，转交户籍地跟进",
)
RESOLVED_OUTCOMES = (
    "已对接资源并落实，本人表示满意",
    "救助申请已获批准，按月发放",
    "服务已到位，回访情况良好",
    "已帮助办理完毕",
)

# What advisors write for each task (社区救助顾问服务清单), and what came of it.
TASK_CONTENT = {
    ServiceTask.POLICY_ANSWER: (
        "来站咨询最低生活保障申请条件，讲解认定标准和所需材料",
        "来电咨询医疗救助报销比例，逐项解答",
        "咨询临时救助申请流程，发放政策告知单",
    ),
    ServiceTask.APPLICATION_INTAKE: (
        "受理社会救助申请，核对材料并告知办理时限",
        "受理支出型贫困生活救助申请，指导补齐医疗费用票据",
        "受理临时救助申请，登记家庭基本情况",
    ),
    ServiceTask.RESOURCE_LINK: (
        "对接资源清单中的服务项目，约定服务时间",
        "联系爱心企业提供帮扶，落实物资发放",
        "转介社会组织提供专业服务",
    ),
    ServiceTask.HOME_VISIT: (
        "上门走访，了解身体状况和生活近况",
        "入户查看居住条件，听取家庭诉求",
        "上门探望，了解近期就医和用药情况",
    ),
    ServiceTask.NEEDS_SCREENING: (
        "开展需求排摸，逐项了解生活、医疗、照护需求",
        "入户开展家境调查，核实家庭收入和支出情况",
        "根据数据比对线索上门核实困难情况",
    ),
    ServiceTask.POLICY_GUIDANCE: (
        "讲解本市社会救助政策，引导按规定提出申请",
        "告知新调整的救助标准和享受条件",
        "宣传医疗救助和长护险政策",
    ),
    ServiceTask.PROXY_APPLICATION: (
        "代为准备申请材料并递交街镇服务站",
        "协助在线提交救助申请",
        "代办医疗救助费用报销手续",
    ),
    ServiceTask.DAILY_CONTACT: (
        "电话联系，询问近况并提醒按时服药",
        "日常联系，了解生活有无新的困难",
        "节前电话问候，告知社区活动安排",
    ),
}
TASK_OUTCOMES = {
    ServiceTask.POLICY_ANSWER: ("已解答", "已发放政策告知单", "已告知申请材料"),
    ServiceTask.APPLICATION_INTAKE: ("材料齐全，已受理", "已受理，待审核", "已一次性告知补正材料"),
    ServiceTask.RESOURCE_LINK: ("已对接", "服务已落实", "已约定服务时间"),
    ServiceTask.HOME_VISIT: ("情况稳定", "已记录诉求", "身体状况一般，继续关注"),
    ServiceTask.NEEDS_SCREENING: ("已完成排摸", "已核实，符合条件", "已登记需求"),
    ServiceTask.POLICY_GUIDANCE: ("已知晓政策", "有意愿申请", "已讲解"),
    ServiceTask.PROXY_APPLICATION: ("已代为递交", "已提交，待审核", "已办结"),
    ServiceTask.DAILY_CONTACT: ("情况良好", "无新的困难", "已提醒"),
}
# The task a street station's advisor does in place of a committee point's (at the station).
STREET_TASK_FOR = {
    ServiceTask.HOME_VISIT: ServiceTask.POLICY_ANSWER,
    ServiceTask.NEEDS_SCREENING: ServiceTask.APPLICATION_INTAKE,
    ServiceTask.POLICY_GUIDANCE: ServiceTask.POLICY_ANSWER,
    ServiceTask.PROXY_APPLICATION: ServiceTask.APPLICATION_INTAKE,
    ServiceTask.DAILY_CONTACT: ServiceTask.POLICY_ANSWER,
}
POINT_ROUTINE = (
    (ServiceTask.HOME_VISIT, ServiceItem.DISCOVERY, 40),
    (ServiceTask.DAILY_CONTACT, ServiceItem.CARE, 30),
    (ServiceTask.POLICY_GUIDANCE, ServiceItem.PUBLICITY, 12),
    (ServiceTask.NEEDS_SCREENING, ServiceItem.INVESTIGATION, 10),
    (ServiceTask.PROXY_APPLICATION, ServiceItem.INVESTIGATION, 8),
)
GROUP_ACTIVITIES = {
    StationKind.COMMITTEE: (
        (ServiceTask.POLICY_GUIDANCE, ServiceItem.PUBLICITY, "在居委活动室举办社会救助政策宣讲会"),
        (
            ServiceTask.RESOURCE_LINK,
            ServiceItem.SUPPORT_SYSTEM,
            "组织“邻里守望”志愿者与独居老人结对",
        ),
        (ServiceTask.DAILY_CONTACT, ServiceItem.CARE, "开展困难老人节日慰问和茶话会"),
    ),
    StationKind.STREET: (
        (ServiceTask.POLICY_ANSWER, ServiceItem.PUBLICITY, "在社区事务受理服务中心开展政策咨询日"),
        (
            ServiceTask.RESOURCE_LINK,
            ServiceItem.SUPPORT_SYSTEM,
            "召开资源对接会，社会组织和爱心企业参加",
        ),
        (ServiceTask.RESOURCE_LINK, ServiceItem.SUPPORT_SYSTEM, "开展社区救助顾问和志愿者业务培训"),
    ),
}
EVALUATION_COMMENTS = (
    "顾问很耐心，讲得很清楚",
    "上门及时，谢谢",
    "办事效率高",
    "希望多来走走",
    "等候时间有点长",
    "政策讲解还不够细",
    "态度很好",
)
RATING_WEIGHTS = ((Rating.SATISFIED, 74), (Rating.FAIRLY_SATISFIED, 21), (Rating.DISSATISFIED, 5))


def pick(rng, weighted):
    """One value of `(value, weight, ...)` rows, drawn by weight."""
    total = sum(row[-1] for row in weighted)
    point = rng.random() * total
    for row in weighted:
        point -= row[-1]
        if point < 0:
            return row[0] if len(row) == 2 else row[:-1]
    return weighted[-1][0] if len(weighted[-1]) == 2 else weighted[-1][:-1]


def days_ago(today, low, high, rng):
    return today - datetime.timedelta(days=rng.randint(low, high))


def on_workday(day):
    """The Friday before a weekend day: advisors record their work on working days."""
    weekday = day.weekday()
    return day - datetime.timedelta(days=weekday - 4) if weekday > 4 else day


def stamp(day, hour):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, 0)))


def on_day_at(date_expression, hour, today):
    """The moment `hour` o'clock (local time) of the day in a date column, as an expression.

    A bulk insert stamps `created_at`/`updated_at` with now; the demo's rows get the day
    they happened instead, in one UPDATE per table and street, on SQLite and PostgreSQL.
    """
    midnight = datetime.datetime.combine(today, datetime.time())
    utc = stamp(today, hour).astimezone(datetime.UTC).replace(tzinfo=None)
    return ExpressionWrapper(
        Cast(date_expression, DateTimeField()) + (utc - midnight), output_field=DateTimeField()
    )


def first_free(model, field, prefix, digits):
    """The next sequence number after the last `prefix` number in use (as `next_number`)."""
    return int(next_number(model, field, prefix, digits)[len(prefix) :])


# ---- Resources (checklist 3) -------------------------------------------------------------

# (name, 文件号, what it offers, to whom); the district reports 80 policies: these and the
# yearly standards below, for this year and the two before.
POLICIES = (
    (
        "上海市社会救助办法",
        "沪府令〔2019〕20号",
        "规定低保、特困供养、医疗、教育、住房、就业、临时救助",
        "本市户籍困难群众",
    ),
    (
        "上海市最低生活保障家庭收入和财产状况认定办法",
        "沪民规〔2021〕9号",
        "低保家庭收入、财产认定标准",
        "申请低保的家庭",
    ),
    (
        "上海市低收入困难家庭申请专项救助认定办法",
        "沪民规〔2021〕10号",
        "低收入家庭专项救助认定",
        "低收入困难家庭",
    ),
    (
        "上海市支出型贫困家庭生活救助办法",
        "沪民规〔2021〕11号",
        "因病因学等刚性支出致贫家庭的生活救助",
        "支出型贫困家庭",
    ),
    (
        "上海市特困人员救助供养办法",
        "沪府规〔2020〕3号",
        "基本生活、照料护理、疾病治疗、丧葬事宜",
        "特困人员",
    ),
    (
        "上海市临时救助实施办法",
        "沪民规〔2020〕13号",
        "急难型和支出型临时救助",
        "遭遇突发困难的家庭和个人",
    ),
    (
        "上海市医疗救助实施办法",
        "沪府规〔2022〕6号",
        "门急诊、住院自负费用救助",
        "低保、特困、低收入等救助对象",
    ),
    (
        "上海市城乡居民基本医疗保险个人缴费资助办法",
        "沪医保规〔2021〕4号",
        "资助参加城乡居民医保",
        "低保、特困、重残人员",
    ),
    (
        "上海市教育救助实施办法",
        "沪教委规〔2021〕5号",
        "学前至高等教育阶段学费、生活费资助",
        "困难家庭学生",
    ),
    (
        "上海市住房救助实施办法",
        "沪房规〔2020〕2号",
        "廉租住房租金配租和实物配租",
        "住房困难的低收入家庭",
    ),
    ("上海市就业救助实施办法", "沪人社规〔2021〕17号", "就业援助、公益性岗位安置", "就业困难人员"),
    (
        "上海市困境儿童保障工作实施意见",
        "沪府办规〔2020〕7号",
        "基本生活、医疗、教育、监护保障",
        "困境儿童",
    ),
    (
        "上海市孤儿基本生活保障办法",
        "沪民规〔2019〕14号",
        "孤儿基本生活费发放",
        "孤儿和事实无人抚养儿童",
    ),
    (
        "上海市残疾人两项补贴实施办法",
        "沪残联规〔2021〕3号",
        "困难残疾人生活补贴和重度残疾人护理补贴",
        "持证残疾人",
    ),
    (
        "上海市重残无业人员生活补助办法",
        "沪民规〔2019〕18号",
        "重残无业人员按月生活补助",
        "重残无业人员",
    ),
    (
        "上海市长期护理保险办法",
        "沪府规〔2021〕15号",
        "社区居家照护、养老机构照护",
        "60周岁以上失能老人",
    ),
    ("上海市养老服务补贴办法", "沪民规〔2020〕9号", "居家养老服务补贴", "低保、低收入老人"),
    ("上海市老年人助餐服务管理办法", "沪民规〔2022〕4号", "社区助餐点优惠用餐", "本区老年人"),
    (
        "上海市居家环境适老化改造实施办法",
        "沪民规〔2022〕8号",
        "扶手、防滑等适老化改造补贴",
        "困难老人家庭",
    ),
    (
        "上海市社会救助申请家庭经济状况核对办法",
        "沪民规〔2020〕6号",
        "收入、财产核对",
        "申请救助的家庭",
    ),
    (
        "上海市“政策找人”工作实施方案",
        "沪民救助发〔2022〕18号",
        "大数据比对主动发现困难群众",
        "潜在困难群众",
    ),
    (
        "上海市困难群众冬令送温暖实施意见",
        "沪民救助发〔2021〕30号",
        "冬令慰问金和物资",
        "低保、特困、低收入家庭",
    ),
    (
        "上海市因病致贫返贫防范实施意见",
        "沪医保发〔2022〕21号",
        "大病保险倾斜、医疗救助托底",
        "因病致贫风险人员",
    ),
    ("上海市法律援助实施办法", "沪司规〔2021〕2号", "免费法律咨询和代理", "经济困难公民"),
    ("上海市困难残疾人康复补贴办法", "沪残联规〔2020〕6号", "康复训练和辅具适配补贴", "困难残疾人"),
    (
        "长宁区社区救助顾问工作实施方案",
        "长民〔2023〕3号",
        "社区救助顾问服务站点和四项清单",
        "全区困难群众",
    ),
    (
        "长宁区社会救助“一网通办”工作办法",
        "长民〔2021〕12号",
        "救助申请线上受理和代办",
        "全区困难群众",
    ),
    (
        "长宁区支出型贫困家庭综合帮扶办法",
        "长府办〔2021〕8号",
        "医疗、教育刚性支出补助",
        "支出型贫困家庭",
    ),
    ("长宁区困难群众大病医疗帮扶办法", "长府办〔2022〕5号", "大病自负费用区级帮扶", "大病患者家庭"),
    ("长宁区独居老人关爱服务办法", "长民〔2022〕7号", "定期探访、紧急呼叫、助餐助浴", "独居老人"),
    (
        "长宁区困境儿童关爱保护实施细则",
        "长民〔2021〕15号",
        "困境儿童分类保障和关爱服务",
        "困境儿童",
    ),
    (
        "长宁区高龄老人营养补贴发放办法",
        "长民〔2020〕11号",
        "高龄老人营养补贴按月发放",
        "80周岁以上老人",
    ),
    ("长宁区困难家庭学生助学金办法", "长教〔2022〕9号", "困难家庭学生助学金", "困难家庭学生"),
    (
        "长宁区公益性岗位开发管理办法",
        "长人社〔2021〕6号",
        "公益性岗位安置就业困难人员",
        "就业困难人员",
    ),
    (
        "长宁区社会救助资源清单管理办法",
        "长民〔2023〕14号",
        "资源清单的编制、更新与对接",
        "各街镇服务站",
    ),
)
# Standards adjusted every year (each a notice of the city or the district).
YEARLY_STANDARDS = (
    ("本市最低生活保障标准", "沪民规", "低保标准", "低保家庭"),
    ("本市特困人员基本生活标准", "沪民规", "特困人员基本生活费", "特困人员"),
    ("本市低收入困难家庭认定标准", "沪民规", "低收入家庭收入认定线", "低收入困难家庭"),
    ("本市支出型贫困家庭生活救助标准", "沪民规", "支出型贫困生活救助金额", "支出型贫困家庭"),
    ("本市临时救助标准", "沪民规", "临时救助金额", "遭遇突发困难的家庭"),
    ("本市医疗救助标准", "沪医保规", "门急诊和住院救助比例、年度限额", "医疗救助对象"),
    ("本市重残无业人员生活补助标准", "沪民规", "重残无业人员生活补助金额", "重残无业人员"),
    ("本市困境儿童基本生活费标准", "沪民规", "困境儿童基本生活费", "困境儿童"),
    ("本市孤儿基本生活费标准", "沪民规", "孤儿基本生活费", "孤儿"),
    ("本区高龄老人营养补贴标准", "长民", "高龄老人营养补贴金额", "80周岁以上老人"),
    ("本市养老服务补贴标准", "沪民规", "居家养老服务补贴金额", "困难老人"),
    ("本市残疾人两项补贴标准", "沪残联规", "生活补贴和护理补贴金额", "困难和重度残疾人"),
    ("本区冬令送温暖慰问标准", "长民", "慰问金和慰问物资", "低保、特困、低收入家庭"),
    ("本市困难群众价格临时补贴标准", "沪发改规", "物价上涨时的临时补贴", "低保、特困人员"),
    (
        "本市城乡居民医保个人缴费资助标准",
        "沪医保规",
        "医保个人缴费资助金额",
        "低保、特困、重残人员",
    ),
)
ORGANISATION_NAMES = (
    "乐群 阳光 恒爱 馨家园 仁德 同心 启明 暖阳 善爱 睦邻 长青 益友 安康 和美 "
    "晨曦 爱心港 知行 共享 心语 彩虹 华爱 新航 福寿 向日葵 惠民 聚力 博爱 承善 绿叶 同行"
)
ORGANISATION_KINDS = (
    ("社会工作服务社", "个案管理、家庭支持、资源链接", "困难家庭"),
    ("助老服务社", "居家照护、助浴、陪同就医", "困难老人"),
    ("心理咨询服务中心", "心理疏导、情绪支持、危机干预", "困难群众"),
    ("青少年事务服务社", "困境儿童关爱、课业辅导", "困境儿童和青少年"),
    ("残障人士康复服务中心", "康复训练、辅具借用", "残疾人"),
    ("法律服务中心", "法律咨询、纠纷调解", "困难群众"),
    ("就业促进服务社", "职业指导、技能培训、岗位推荐", "就业困难人员"),
    ("公益发展中心", "志愿服务、慈善项目运营", "困难群众"),
)
ENTERPRISE_BRANDS = (
    "恒源 佳和 同润 鑫达 锦华 宏泰 瑞丰 华联 新天 金虹 联华 永乐 "
    "百草 仁和 嘉禾 东方 长虹 万福 申通 虹桥 天山 古北 凯旋 中环 安泰 华亭 协和 仙霞 "
    "绿洲 明德 兴业 荣昌 盛达 悦家 康乐 福满"
)
ENTERPRISE_KINDS = (
    ("超市有限公司", "每月爱心物资包", NeedCategory.LIVING),
    ("餐饮管理有限公司", "老年助餐优惠、爱心午餐", NeedCategory.LIVING),
    ("大药房", "药品折扣、免费测血压", NeedCategory.MEDICAL),
    ("家政服务有限公司", "免费上门保洁、助浴", NeedCategory.CARE),
    ("物业管理有限公司", "免费上门维修、适老化改造", NeedCategory.HOUSING),
    ("人力资源有限公司", "提供就业岗位", NeedCategory.EMPLOYMENT),
    ("眼镜有限公司", "免费验光配镜", NeedCategory.MEDICAL),
    ("教育培训中心", "困难家庭学生免费课业辅导", NeedCategory.EDUCATION),
    ("电器维修服务部", "免费上门维修家电", NeedCategory.HOUSING),
    ("养老服务有限公司", "长护险居家照护、喘息服务", NeedCategory.CARE),
)
FUNDS = (
    ("长宁区慈善基金会困难群众帮扶基金", "长宁区慈善基金会", "一次性帮扶金"),
    ("长宁区红十字会大病救助金", "长宁区红十字会", "大病医疗救助金"),
    ("长宁区总工会困难职工帮扶资金", "长宁区总工会", "困难职工生活帮扶"),
    ("长宁区妇联困境妇女儿童救助金", "长宁区妇女联合会", "困境妇女儿童救助"),
)
PROJECTS = (
    ("独居老人“一键通”紧急呼叫服务项目", "紧急呼叫设备安装和响应", "独居老人"),
    ("困难老人居家照护服务项目", "居家照护、助浴、陪同就医", "困难老人"),
    ("困境儿童“护苗”关爱项目", "课业辅导、心理关爱", "困境儿童"),
    ("支出型贫困家庭综合帮扶项目", "个案管理、资源链接", "支出型贫困家庭"),
    ("困难家庭心理关爱项目", "心理疏导、情绪支持", "困难家庭成员"),
    ("精神障碍者家庭支持项目", "家属喘息服务、康复指导", "精神障碍者家庭"),
    ("困难老人居家适老化改造项目", "扶手、防滑地面、坐便器改造", "困难老人家庭"),
    ("失业人员就业援助项目", "职业指导、岗位推荐", "就业困难人员"),
    ("“数字助老”培训项目", "智能手机使用培训、代办线上业务", "老年人"),
    ("大病患者医疗陪护项目", "陪同就医、住院陪护", "大病患者"),
    ("“暖冬”物资发放项目", "冬令生活物资", "低保、低收入家庭"),
    ("困难家庭法律援助进社区项目", "法律咨询、代写文书", "困难群众"),
)
VOLUNTEERING = (
    ("长宁区青年志愿者协会助困服务队", "上门陪伴、代购代办"),
    ("长宁区退休医生健康义诊队", "健康咨询、义诊"),
    ("长宁区律师志愿服务团", "法律咨询"),
    ("长宁区大学生助学志愿服务队", "课业辅导"),
)
CHARITY = (
    ("长宁区慈善超市", "长宁区慈善基金会", "困难群众凭证免费领取生活物资"),
    ("“蓝天下的至爱”慈善募捐项目", "上海市慈善基金会长宁代表处", "困难家庭慈善帮扶金"),
    ("长宁区助学慈善项目", "长宁区慈善基金会", "困难家庭学生助学金"),
    ("长宁区大病慈善救助项目", "长宁区慈善基金会", "大病患者慈善救助金"),
    ("“一日捐”帮困项目", "长宁区慈善基金会", "节日慰问金"),
    ("爱心衣物捐赠站", "长宁区慈善基金会", "衣物、被褥"),
)
DISTRICT_ORGANISATIONS, STREET_ORGANISATIONS = 30, 2
DISTRICT_ENTERPRISES, STREET_ENTERPRISES, COMMITTEE_ENTERPRISES = 40, 6, 3


def landline(rng):
    return f"021-6{rng.randrange(10_000_000):07d}"


def district_resources(district, today):
    """The district-wide resources: policies, organisations, enterprises, funds and so on."""
    rng = random.Random(f"demo-resources:{district.code}")
    rows = []
    for name, basis, offers, eligibility in POLICIES:
        year = int(basis.split("〔")[1][:4])
        rows.append(
            {
                "name": name,
                "resource_type": ResourceType.POLICY,
                "provider": "上海市人民政府"
                if basis.startswith("沪")
                else f"{district.name}人民政府",
                "contact": "12345",
                "offers": offers,
                "eligibility": eligibility,
                "valid_from": datetime.date(year, 1 + rng.randrange(12), 1),
                "legal_basis": basis,
            }
        )
    for years_back in (2, 1, 0):
        year = today.year - years_back
        for number, (topic, issuer, offers, eligibility) in enumerate(YEARLY_STANDARDS, start=1):
            rows.append(
                {
                    "name": f"关于调整{year}年{topic}的通知",
                    "resource_type": ResourceType.POLICY,
                    "provider": f"{district.name}民政局" if issuer == "长民" else "上海市民政局",
                    "contact": "12345",
                    "offers": offers,
                    "eligibility": eligibility,
                    "valid_from": datetime.date(year, 4, 1),
                    "valid_to": None if years_back == 0 else datetime.date(year + 1, 3, 31),
                    "legal_basis": f"{issuer}〔{year}〕{number + 2 * years_back}号",
                }
            )
    organisations = [
        (brand, kind) for brand in ORGANISATION_NAMES.split() for kind in ORGANISATION_KINDS
    ]
    rng.shuffle(organisations)
    for brand, (kind, offers, eligibility) in organisations[:DISTRICT_ORGANISATIONS]:
        rows.append(organisation_row(rng, f"{district.name}{brand}{kind}", offers, eligibility))
    for name, provider, offers in FUNDS:
        rows.append(
            {
                "name": name,
                "resource_type": ResourceType.FUND,
                "provider": provider,
                "contact": landline(rng),
                "offers": offers,
                "eligibility": "困难群众",
                "capacity": 100 + 50 * rng.randrange(8),
                "valid_from": datetime.date(today.year, 1, 1),
                "valid_to": datetime.date(today.year, 12, 31),
            }
        )
    for name, offers, eligibility in PROJECTS:
        rows.append(
            {
                "name": f"{today.year}年{name}",
                "resource_type": ResourceType.PROJECT,
                "provider": f"{district.name}民政局（购买服务）",
                "contact": landline(rng),
                "offers": offers,
                "eligibility": eligibility,
                "capacity": 50 + 10 * rng.randrange(20),
                "valid_from": datetime.date(today.year, 1, 1),
                "valid_to": datetime.date(today.year, 12, 31),
            }
        )
    for name, offers in VOLUNTEERING:
        rows.append(
            {
                "name": name,
                "resource_type": ResourceType.VOLUNTEERING,
                "provider": name,
                "contact": landline(rng),
                "offers": offers,
                "eligibility": "困难群众",
            }
        )
    for name, provider, offers in CHARITY:
        rows.append(
            {
                "name": name,
                "resource_type": ResourceType.CHARITY,
                "provider": provider,
                "contact": landline(rng),
                "offers": offers,
                "eligibility": "困难群众",
            }
        )
    enterprises = [
        (brand, kind) for brand in ENTERPRISE_BRANDS.split() for kind in ENTERPRISE_KINDS
    ]
    rng.shuffle(enterprises)
    for brand, kind in enterprises[:DISTRICT_ENTERPRISES]:
        rows.append(enterprise_row(rng, f"上海{brand}{kind[0]}", kind, today))
    return rows


def organisation_row(rng, name, offers, eligibility):
    return {
        "name": name,
        "resource_type": ResourceType.ORGANISATION,
        "provider": name,
        "contact": landline(rng),
        "offers": offers,
        "eligibility": eligibility,
        "capacity": 20 + 10 * rng.randrange(10),
    }


def enterprise_row(rng, name, kind, today):
    _kind, offers, _category = kind
    return {
        "name": name,
        "resource_type": ResourceType.ENTERPRISE,
        "provider": name,
        "contact": landline(rng),
        "offers": offers,
        "eligibility": "本区低保、低收入家庭",
        "capacity": 10 + 5 * rng.randrange(10),
        "valid_from": datetime.date(today.year - rng.randrange(3), 1 + rng.randrange(12), 1),
    }


def street_resources(street, committees, today):
    """A street's own resources: organisations, shops and firms, its fund and volunteers,
    and at some committees a firm or a volunteer team of their own."""
    rng = random.Random(f"demo-resources:{street.code}")
    short = street.name.removesuffix("街道").removesuffix("镇")
    rows = []
    kinds = list(ORGANISATION_KINDS)
    rng.shuffle(kinds)
    for kind, offers, eligibility in kinds[:STREET_ORGANISATIONS]:
        rows.append(organisation_row(rng, f"{street.name}{kind}", offers, eligibility))
    brands = ENTERPRISE_BRANDS.split()
    rng.shuffle(brands)
    kinds = list(ENTERPRISE_KINDS)
    for number in range(STREET_ENTERPRISES):
        kind = kinds[rng.randrange(len(kinds))]
        name = f"上海{short}{brands[number]}{kind[0]}"
        rows.append(enterprise_row(rng, name, kind, today))
    rows.append(
        {
            "name": f"{street.name}困难家庭帮扶基金",
            "resource_type": ResourceType.FUND,
            "provider": f"{street.name}办事处",
            "contact": landline(rng),
            "offers": "一次性生活帮扶、医疗帮扶",
            "eligibility": "本街镇困难家庭",
            "capacity": 30 + 10 * rng.randrange(6),
            "valid_from": datetime.date(today.year, 1, 1),
            "valid_to": datetime.date(today.year, 12, 31),
        }
    )
    rows.append(
        {
            "name": f"{street.name}睦邻互助志愿服务队",
            "resource_type": ResourceType.VOLUNTEERING,
            "provider": f"{street.name}社区志愿者协会",
            "contact": landline(rng),
            "offers": "上门陪伴、代购代办、关爱探访",
            "eligibility": "独居老人、困难家庭",
        }
    )
    chosen = sorted(rng.sample(committees, min(COMMITTEE_ENTERPRISES, len(committees))), key=str)
    for number, committee in enumerate(chosen):
        kind = ENTERPRISE_KINDS[rng.randrange(2)]  # a shop or a canteen next door
        name = f"{committee.name.removesuffix('居委会')}{brands[-1 - number]}{kind[0]}"
        row = enterprise_row(rng, name, kind, today)
        row["committee"] = committee
        rows.append(row)
    return rows


def seed_resources(districts, streets, committees_of, today):
    """The resource list: the districts' shared resources while they have none, each
    street's own while it has none. Returns the number created."""
    resources = []
    for district in districts:
        if Resource.objects.filter(district=district, area_level=AreaLevel.DISTRICT).exists():
            continue
        prefix = f"{RESOURCE_NUMBER_PREFIX}{district.code}"
        sequence = first_free(Resource, "resource_number", prefix, 5)
        for row in district_resources(district, today):
            resources.append(
                Resource(
                    resource_number=f"{prefix}{sequence:05d}",
                    area_level=AreaLevel.DISTRICT,
                    district=district,
                    **row,
                )
            )
            sequence += 1
    with_own = set(
        Resource.objects.filter(street__in=streets).values_list("street", flat=True).distinct()
    )
    for street in streets:
        if street.pk in with_own:
            continue
        prefix = f"{RESOURCE_NUMBER_PREFIX}{street.code}"
        sequence = first_free(Resource, "resource_number", prefix, 5)
        for row in street_resources(street, committees_of[street.pk], today):
            committee = row.pop("committee", None)
            resources.append(
                Resource(
                    resource_number=f"{prefix}{sequence:05d}",
                    area_level=AreaLevel.COMMITTEE if committee else AreaLevel.STREET,
                    district_id=street.district_id,
                    street=street,
                    committee=committee,
                    **row,
                )
            )
            sequence += 1
    Resource.objects.bulk_create(resources, batch_size=BATCH)
    return len(resources)


class StreetResources:
    """A street's resource list (its own and the district's), by the needs each may meet."""

    def __init__(self, resources):
        self.by_category = {category: [] for category in NeedCategory.values}
        self.all = list(resources)
        for resource in self.all:
            text = f"{resource.name}{resource.offers}{resource.eligibility}"
            for category, words in NEED_KEYWORDS.items():
                if any(word in text for word in words):
                    self.by_category[category].append(resource)

    def pick(self, rng, category, day):
        """A resource valid on `day` that fits a need of `category` (any fitting one if none)."""
        candidates = self.by_category.get(category) or self.all
        for _attempt in range(6):
            resource = candidates[rng.randrange(len(candidates))]
            if (resource.valid_from is None or resource.valid_from <= day) and (
                resource.valid_to is None or resource.valid_to >= day
            ):
                return resource
        return None


# ---- People --------------------------------------------------------------------------------


def committee_counts(committees, positions, total):
    """How many people each committee gets: `total` shared by weight, largest remainders."""
    weights = {}
    for committee in committees:
        weight = 0.55 + random.Random(f"demo-weight:{committee.code}").random()
        if positions.committees.get(committee.pk, 0) % LARGE_COMMITTEE_EVERY == LARGE_COMMITTEE_AT:
            weight *= LARGE_COMMITTEE_FACTOR
        weights[committee.pk] = weight
    whole = sum(weights.values())
    exact = {pk: total * weight / whole for pk, weight in weights.items()}
    counts = {pk: int(value) for pk, value in exact.items()}
    codes = {committee.pk: committee.code for committee in committees}
    rest = total - sum(counts.values())
    for pk in sorted(exact, key=lambda pk: (counts[pk] - exact[pk], codes[pk]))[:rest]:
        counts[pk] += 1
    return counts


class PersonPlan:
    """One demo person before the insert: the recipient and what hangs on it."""

    __slots__ = ("recipient", "age", "current", "periods", "categories", "key_groups")

    def __init__(self, recipient, age):
        self.recipient = recipient
        self.age = age
        self.current = False
        self.periods = []
        self.categories = []
        self.key_groups = []


def demo_name(rng, gender, age):
    roll = rng.random()
    if roll < 0.012:
        surname = "曾"
    elif roll < 0.018:
        surname = "单"
    elif roll < 0.62:
        surname = SURNAMES_COMMON[rng.randrange(len(SURNAMES_COMMON))]
    else:
        surname = SURNAMES_OTHER[rng.randrange(len(SURNAMES_OTHER))]
    generation = "child" if age < 18 else "young" if age < 40 else "mid" if age < 65 else "old"
    given = GIVEN_NAMES[(generation, gender)]
    return surname + given[rng.randrange(len(given))]


def demo_id_number(rng, birth, male, taken, existing_hashes):
    """A valid ID number for the birth date and sex, not in `taken` nor in the database."""
    area = pick(rng, AREA_CODES)
    for _attempt in range(50):
        sequence = rng.randrange(500) * 2 + (1 if male else 0)
        first_17 = f"{area}{birth:%Y%m%d}{sequence:03d}"
        number = first_17 + check_character(first_17)
        if number in taken:
            continue
        if existing_hashes and hash_id_number(number) in existing_hashes:
            continue
        taken.add(number)
        return number
    raise RuntimeError(f"no free ID number for {birth}")


def demo_phone(rng, age):
    roll = rng.random()
    if roll < (0.14 if age >= 80 else 0.05):
        return ""
    if age >= 70 and roll < 0.35:
        return landline(rng)
    prefix = MOBILE_PREFIXES[rng.randrange(len(MOBILE_PREFIXES))]
    return f"{prefix}{rng.randrange(100_000_000):08d}"


def plan_person(rng, committee, road, today, taken, existing_hashes):
    """A person of `committee`, with their periods, categories and key groups."""
    roll = rng.random()
    if roll < 0.07:
        age = rng.randint(1, 17)
    elif roll < 0.19:
        age = rng.randint(18, 39)
    elif roll < 0.47:
        age = rng.randint(40, 59)
    elif roll < 0.83:
        age = rng.randint(60, 79)
    else:
        age = rng.randint(80, 98)
    birth = today - datetime.timedelta(days=age * 365 + age // 4 + rng.randrange(365))
    female = rng.random() < (0.58 if age >= 60 else 0.5)
    gender = Gender.FEMALE if female else Gender.MALE
    lives_alone = age >= 60 and rng.random() < 0.3
    if lives_alone:
        household = 1
    elif age < 18:
        household = rng.choice((2, 2, 3, 3, 3, 4, 5))
    else:
        household = pick(rng, ((1, 24), (2, 32), (3, 24), (4, 13), (5, 5), (6, 2)))
    lane = rng.randint(1, 1500)
    address = f"长宁区{road}{lane}弄{rng.randint(1, 40)}号{rng.randint(1, 6)}0{rng.randint(1, 4)}室"
    recipient = Recipient(
        street_id=committee.street_id,
        committee_id=committee.pk,
        name=demo_name(rng, gender, age),
        gender=gender,
        id_number=demo_id_number(rng, birth, not female, taken, existing_hashes),
        phone=demo_phone(rng, age),
        address=address,
        household_size=household,
    )
    plan = PersonPlan(recipient, age)

    # Assistance categories: one, sometimes two.
    first = pick(rng, CATEGORY_WEIGHTS)
    if first == "特困供养" and not (age >= 60 or household == 1):
        first = "低保"
    categories = [first]
    if rng.random() < 0.2:
        second = rng.choice(("临时救助", "支出型贫困", "其他困难", "低保"))
        if second not in categories:
            categories.append(second)
    plan.categories = categories
    groups = []
    if lives_alone and rng.random() < 0.8:
        groups.append("独居老人")
    if age >= 80:
        groups.append("高龄老人")
    if rng.random() < 0.11:
        groups.append("重残")
    if rng.random() < (0.16 if "支出型贫困" in categories else 0.08):
        groups.append("大病")
    if age < 18 and rng.random() < 0.6:
        groups.append("困境儿童")
    if 18 <= age < 60 and rng.random() < 0.22:
        groups.append("失业人员")
    if not groups and rng.random() < 0.03:
        groups.append("其他")
    plan.key_groups = groups
    high = rng.random() < (0.45 if {"重残", "大病"} & set(groups) or first == "特困供养" else 0.15)
    recipient.hardship_level = (
        HardshipLevel.HIGH
        if high
        else pick(rng, ((HardshipLevel.MEDIUM, 60), (HardshipLevel.LOW, 40)))
    )

    # Status and the periods in which the person is a current recipient.
    roll = rng.random()
    if roll < CURRENT_SHARE:
        plan.current = True
        starts = days_ago(today, 14, 730, rng)
        ends = None
        if rng.random() < 0.06:
            ends = today + datetime.timedelta(days=rng.randint(20, 180))
        if rng.random() < 0.12:
            earlier_end = starts - datetime.timedelta(days=rng.randint(30, 240))
            earlier_start = earlier_end - datetime.timedelta(days=rng.randint(90, 700))
            plan.periods.append((earlier_start, earlier_end, "收入增加，暂停认定"))
        plan.periods.append((starts, ends, ""))
    elif roll < CURRENT_SHARE + EXITED_SHARE:
        exited_on = days_ago(today, 10, 900, rng)
        recipient.status = RecipientStatus.EXITED
        recipient.exited_on = exited_on
        recipient.exit_reason = EXIT_REASONS[rng.randrange(len(EXIT_REASONS))]
        if rng.random() < 0.7:
            starts = exited_on - datetime.timedelta(days=rng.randint(120, 1500))
            plan.periods.append((starts, exited_on, "退出登记"))
    elif rng.random() < 0.25:
        ends = days_ago(today, 20, 600, rng)
        starts = ends - datetime.timedelta(days=rng.randint(60, 900))
        plan.periods.append((starts, ends, "不再符合现有救助对象条件"))
    return plan


class StationStaff:
    """The advisors of one station, to pick who was on duty on a day."""

    def __init__(self, station):
        self.station = station
        self.advisors = []  # (advisor id, started_on, left_on, revoked, user id)

    def on_duty(self, rng, day, prefer=None):
        """An advisor of the station active on `day` (`prefer` if they are), or None."""
        active = [
            advisor
            for advisor in self.advisors
            if not advisor[3] and advisor[1] <= day and (advisor[2] is None or advisor[2] > day)
        ]
        if not active:
            return None
        for advisor in active:
            if advisor[0] == prefer:
                return advisor
        return active[rng.randrange(len(active))]


def load_staff(streets, today):
    """The street stations and committee points of `streets` with their advisors."""
    stations = {}
    for station in Station.objects.filter(
        street__in=streets, kind__in=[StationKind.STREET, StationKind.COMMITTEE]
    ).order_by("pk"):
        stations[station.pk] = StationStaff(station)
    for link in (
        AdvisorStation.objects.filter(station__in=list(stations))
        .select_related("advisor")
        .order_by("advisor__advisor_number")
    ):
        advisor = link.advisor
        stations[link.station_id].advisors.append(
            (
                advisor.pk,
                advisor.started_on,
                advisor.left_on,
                advisor.filing_status == FilingStatus.REVOKED,
                advisor.user_id,
            )
        )
    street_station, points = {}, {}
    for staff in stations.values():
        if staff.station.kind == StationKind.STREET:
            street_station[staff.station.street_id] = staff
        else:
            points[staff.station.committee_id] = staff
    return street_station, points


def responsible_advisor(rng, point):
    """The person's advisor: one of their committee point's advisors, shared out evenly,
    so that the people of one who has left wait to be handed over; none where the point
    has no advisor."""
    if point is None or not point.advisors:
        return None
    return point.advisors[rng.randrange(len(point.advisors))][0]


def keep_one_waiting(plans, point, today):
    """Where an advisor of the point is no longer active, at least one current recipient is
    still in their charge: the street's pages flag them until someone is assigned."""
    if point is None:
        return
    inactive = [
        advisor[0]
        for advisor in point.advisors
        if advisor[3] or advisor[1] > today or (advisor[2] is not None and advisor[2] <= today)
    ]
    current = [plan for plan in plans if plan.current]
    if not inactive or not current:
        return
    if not any(plan.recipient.advisor_id in inactive for plan in current):
        current[0].recipient.advisor_id = inactive[0]


# ---- Seeding ------------------------------------------------------------------------------------


class Counter(dict):
    def add(self, key, number):
        self[key] = self.get(key, 0) + number


def seed_cases(*, street_codes, positions, home_roads, today, small):
    """Seed the people and the checklists of `street_codes` (see the module); the counts."""
    counts = Counter()
    streets = list(Street.objects.filter(code__in=street_codes).order_by("code"))
    districts = list(
        District.objects.filter(pk__in={street.district_id for street in streets}).order_by("code")
    )
    committees_of = defaultdict(list)
    for committee in Committee.objects.filter(street__in=streets).order_by("code"):
        committees_of[committee.street_id].append(committee)
    counts.add("resources", seed_resources(districts, streets, committees_of, today))

    with_people = set(
        Recipient.objects.filter(street__in=streets).values_list("street", flat=True).distinct()
    )
    new_streets = [street for street in streets if street.pk not in with_people]
    if not new_streets:
        return counts

    all_committees = list(Committee.objects.filter(street__district__in=districts))
    total = SMALL_PEOPLE_PER_COMMITTEE * len(all_committees) if small else PEOPLE_TOTAL
    per_committee = committee_counts(all_committees, positions, total)
    category_ids = dict(
        AssistanceCategory.objects.filter(district__isnull=True).values_list("name", "pk")
    )
    key_group_ids = dict(KeyGroup.objects.filter(district__isnull=True).values_list("name", "pk"))
    existing_hashes = set(
        Recipient.objects.exclude(id_number_hash=None).values_list("id_number_hash", flat=True)
    )
    street_station, points = load_staff(new_streets, today)
    managers = dict(
        User.objects.filter(role=Role.STREET_MANAGER, street__in=new_streets).values_list(
            "street", "pk"
        )
    )
    street_list = defaultdict(list)
    for resource in Resource.objects.filter(
        Q(street__in=new_streets)
        | Q(area_level=AreaLevel.DISTRICT, district__in=[s.district_id for s in new_streets])
    ).order_by("resource_number"):
        if resource.street_id:
            street_list[resource.street_id].append(resource)
        else:
            for street in new_streets:
                if street.district_id == resource.district_id:
                    street_list[street.pk].append(resource)

    taken = set()
    for street in new_streets:
        people = seed_people(
            street,
            committees_of[street.pk],
            per_committee,
            points,
            home_roads,
            category_ids,
            key_group_ids,
            today,
            taken,
            existing_hashes,
            counts,
        )
        helpers = StreetWork(
            street,
            street_station.get(street.pk),
            points,
            StreetResources(street_list[street.pk]),
            managers.get(street.pk),
            today,
        )
        needs = helpers.seed_needs(people, counts)
        services = helpers.seed_services(people, needs, counts)
        helpers.seed_evaluations(services, counts)
        helpers.seed_reviews(counts)
    return counts


def seed_people(
    street,
    committees,
    per_committee,
    points,
    home_roads,
    category_ids,
    key_group_ids,
    today,
    taken,
    existing_hashes,
    counts,
):
    """The people of one street, written in bulk with their periods, categories and groups."""
    plans = []
    prefix = f"{FILE_NUMBER_PREFIX}{street.code}"
    sequence = first_free(Recipient, "file_number", prefix, 6)
    for committee in committees:
        rng = random.Random(f"demo-people:{committee.code}")
        roads = home_roads.get(committee.code) or ("长宁路",)
        point = points.get(committee.pk)
        committee_plans = []
        for _number in range(per_committee.get(committee.pk, 0)):
            road = roads[0] if rng.random() < 0.7 else roads[rng.randrange(len(roads))]
            plan = plan_person(rng, committee, road, today, taken, existing_hashes)
            recipient = plan.recipient
            recipient.advisor_id = responsible_advisor(rng, point)
            recipient.file_number = f"{prefix}{sequence:06d}"
            recipient.refresh_derived()
            sequence += 1
            plans.append(plan)
            committee_plans.append(plan)
        keep_one_waiting(committee_plans, point, today)
    Recipient.objects.bulk_create([plan.recipient for plan in plans], batch_size=BATCH)
    periods, categories, groups = [], [], []
    for plan in plans:
        pk = plan.recipient.pk
        for starts_on, ends_on, note in plan.periods:
            periods.append(
                CurrentPeriod(recipient_id=pk, starts_on=starts_on, ends_on=ends_on, note=note)
            )
        categories.extend(
            RecipientCategory(recipient_id=pk, category_id=category_ids[name])
            for name in plan.categories
            if name in category_ids
        )
        groups.extend(
            RecipientKeyGroup(recipient_id=pk, key_group_id=key_group_ids[name])
            for name in plan.key_groups
            if name in key_group_ids
        )
    CurrentPeriod.objects.bulk_create(periods, batch_size=BATCH)
    RecipientCategory.objects.bulk_create(categories, batch_size=BATCH)
    RecipientKeyGroup.objects.bulk_create(groups, batch_size=BATCH)
    charges = advisor_charges(plans, points, today)
    AdvisorCharge.objects.bulk_create(charges, batch_size=BATCH)
    # Written in bulk (no hooks): the month summaries (C9) of these people.
    summaries.refresh_people([plan.recipient.pk for plan in plans])
    counts.add("people", len(plans))
    counts.add("current", sum(plan.current for plan in plans))
    counts.add("exited", sum(plan.recipient.status == RecipientStatus.EXITED for plan in plans))
    counts.add("periods", len(periods))
    counts.add("charges", len(charges))
    return plans


def advisor_charges(plans, points, today):
    """One open charge (`cases.AdvisorCharge`) for every person with an advisor, naming it.

    The register kept no history before the demo: the charge starts when the person's first
    period did, but no earlier than `CHARGE_HISTORY_DAYS` ago (a person without periods:
    that day) and not before the advisor started; so a month's miss (C9) belongs to the
    advisor, or to nobody in the months before they started. The people of an advisor who
    has left (`keep_one_waiting`) stay in that advisor's charge until they are handed over.
    """
    started = {advisor[0]: advisor[1] for staff in points.values() for advisor in staff.advisors}
    earliest = today - datetime.timedelta(days=CHARGE_HISTORY_DAYS)
    charges = []
    for plan in plans:
        recipient = plan.recipient
        if recipient.advisor_id is None:
            continue
        starts_on = max(min((period[0] for period in plan.periods), default=earliest), earliest)
        advisor_start = started.get(recipient.advisor_id)
        if advisor_start is not None:
            starts_on = max(starts_on, advisor_start)
        charges.append(
            AdvisorCharge(
                recipient_id=recipient.pk,
                advisor_id=recipient.advisor_id,
                starts_on=min(starts_on, today),
            )
        )
    return charges


class StreetWork:
    """A street's needs, services, evaluations and reviews, drawn for its people."""

    def __init__(self, street, street_station, points, resources, manager_id, today):
        self.street = street
        self.street_station = street_station
        self.points = points
        self.resources = resources
        self.manager_id = manager_id
        self.today = today
        self.year_ago = today - datetime.timedelta(days=365)

    # Checklist 2 ------------------------------------------------------------------------

    def seed_needs(self, people, counts):
        """Needs of some 20% of the people, of every status; open ones recent. Returns
        (need, plan, resource linked or None, link day or None) tuples."""
        rng = random.Random(f"demo-needs:{self.street.code}")
        drafts = []
        for plan in people:
            recipient = plan.recipient
            exited = recipient.status == RecipientStatus.EXITED
            chance = 0.3 if plan.current else 0.14 if exited else 0.12
            if rng.random() >= chance:
                continue
            for _number in range(2 if rng.random() < 0.15 else 1):
                drafts.append(self.draft_need(rng, plan, exited))
        drafts.sort(key=lambda draft: (draft[0].found_on, draft[0].recipient.file_number))
        prefix = f"{NEED_NUMBER_PREFIX}{self.street.code}"
        sequence = first_free(Need, "need_number", prefix, 6)
        for need, *_rest in drafts:
            need.need_number = f"{prefix}{sequence:06d}"
            sequence += 1
        Need.objects.bulk_create([draft[0] for draft in drafts], batch_size=BATCH)
        links = [
            NeedResource(need_id=need.pk, resource_id=resource.pk, linked_on=linked_on)
            for need, _plan, resource, linked_on in drafts
            if resource is not None
        ]
        NeedResource.objects.bulk_create(links, batch_size=BATCH)
        if drafts:
            Need.objects.filter(
                need_number__startswith=prefix, need_number__gte=drafts[0][0].need_number
            ).update(
                created_at=on_day_at(F("found_on"), 10, self.today),
                updated_at=on_day_at(Coalesce("closed_on", "found_on"), 16, self.today),
            )
        counts.add("needs", len(drafts))
        counts.add("need_links", len(links))
        return drafts

    def draft_need(self, rng, plan, exited):
        today = self.today
        recipient = plan.recipient
        if exited:
            status = NeedStatus.RESOLVED if rng.random() < 0.75 else NeedStatus.UNRESOLVABLE
        else:
            status = pick(
                rng,
                (
                    (NeedStatus.TO_ASSESS, 13),
                    (NeedStatus.TO_LINK, 12),
                    (NeedStatus.LINKED, 16),
                    (NeedStatus.RESOLVED, 47),
                    (NeedStatus.UNRESOLVABLE, 12),
                ),
            )
        if status == NeedStatus.TO_ASSESS:
            found_on = days_ago(today, 0, 30, rng)
        elif status == NeedStatus.TO_LINK:
            found_on = days_ago(today, 5, 60, rng)
        elif status == NeedStatus.LINKED:
            found_on = days_ago(today, 15, 120, rng)
        else:
            latest = recipient.exited_on if exited else today
            found_on = latest - datetime.timedelta(days=rng.randint(20, 700))
        category = pick(rng, NEED_WEIGHTS)
        if (
            category == NeedCategory.EDUCATION
            and plan.age >= 25
            and plan.recipient.household_size < 2
        ):
            category = NeedCategory.LIVING
        if category == NeedCategory.EMPLOYMENT and not 18 <= plan.age < 60:
            category = NeedCategory.CARE if plan.age >= 60 else NeedCategory.EDUCATION
        descriptions = NEED_DESCRIPTIONS[category]
        resource = linked_on = closed_on = None
        outcome = ""
        if status in (NeedStatus.LINKED, NeedStatus.RESOLVED):
            linked_on = min(found_on + datetime.timedelta(days=rng.randint(3, 20)), today)
            if status == NeedStatus.RESOLVED and rng.random() < 0.2:
                linked_on = None  # resolved by a policy applied for, without a resource
            else:
                resource = self.resources.pick(rng, category, linked_on)
                if resource is None:
                    linked_on = None
        if status in (NeedStatus.RESOLVED, NeedStatus.UNRESOLVABLE):
            latest = recipient.exited_on if exited else today
            closed_on = min(
                (linked_on or found_on) + datetime.timedelta(days=rng.randint(5, 60)), latest
            )
            closed_on = max(closed_on, linked_on or found_on)
            reasons = RESOLVED_OUTCOMES if status == NeedStatus.RESOLVED else UNRESOLVABLE_REASONS
            outcome = reasons[rng.randrange(len(reasons))]
        need = Need(
            recipient=recipient,
            category=category,
            description=descriptions[rng.randrange(len(descriptions))],
            source=pick(
                rng,
                (
                    (NeedSource.VISIT, 50),
                    (NeedSource.APPLICATION, 25),
                    (NeedSource.DATA_LEAD, 15),
                    (NeedSource.REFERRAL, 10),
                ),
            ),
            found_on=found_on,
            urgency=pick(rng, ((Urgency.URGENT, 10), (Urgency.SOON, 25), (Urgency.NORMAL, 65))),
            status=status,
            closed_on=closed_on,
            outcome=outcome,
            advisor_id=recipient.advisor_id,
        )
        return need, plan, resource, linked_on

    # Checklist 4 ------------------------------------------------------------------------

    def service(self, rng, day, task, item, *, recipient=None, point=None, prefer=None, **fields):
        """A service on `day` at the person's committee point by an advisor on duty, or at the
        street station when the point has nobody on duty; None when nobody was."""
        day = on_workday(day)
        if day < self.year_ago or day > self.today:
            return None
        staff, advisor = point, None
        if staff is not None:
            advisor = staff.on_duty(rng, day, prefer)
        if advisor is None:
            staff = self.street_station
            advisor = staff.on_duty(rng, day) if staff is not None else None
            if advisor is None:
                return None
            task = STREET_TASK_FOR.get(task, task)
        contents = TASK_CONTENT[task]
        outcomes = TASK_OUTCOMES[task]
        return ServiceRecord(
            date=day,
            advisor_id=advisor[0],
            station=staff.station,
            recipient=recipient,
            item=item,
            task=task,
            content=fields.pop("content", None) or contents[rng.randrange(len(contents))],
            outcome=outcomes[rng.randrange(len(outcomes))],
            recorded_by_id=advisor[4] or self.manager_id,
            **fields,
        )

    def seed_services(self, people, needs, counts):
        """A year of services: the routine of current recipients, some for the others, the
        steps of each need, and group activities at the stations."""
        rng = random.Random(f"demo-services:{self.street.code}")
        today, year_ago = self.today, self.year_ago
        services = []
        for plan in people:
            recipient = plan.recipient
            point = self.points.get(recipient.committee_id)
            if plan.current:
                starts = max(plan.periods[-1][0], year_ago)
                visits = rng.choice((1, 1, 2, 2, 2, 3))
            elif recipient.status == RecipientStatus.EXITED:
                starts, visits = year_ago, 1 if rng.random() < 0.25 else 0
            else:
                starts, visits = year_ago, 1 if rng.random() < 0.2 else 0
            last = recipient.exited_on or today
            if last < starts:
                continue
            days = sorted(
                starts + datetime.timedelta(days=rng.randint(0, (last - starts).days))
                for _number in range(visits)
            )
            for number, day in enumerate(days):
                task, item = pick(rng, POINT_ROUTINE)
                step = (
                    ServiceStep.DISCOVER
                    if number == 0 and not plan.current
                    else ServiceStep.FOLLOW_UP
                )
                if plan.current and task == ServiceTask.NEEDS_SCREENING:
                    step = ServiceStep.ASSESS
                record = self.service(
                    rng,
                    day,
                    task,
                    item,
                    recipient=recipient,
                    point=point,
                    prefer=recipient.advisor_id,
                    step=step,
                )
                if record is not None:
                    services.append(record)
        for need, plan, resource, linked_on in needs:
            services.extend(self.need_services(rng, need, plan, resource, linked_on))
        services.extend(self.group_activities(rng))
        services.sort(key=lambda record: (record.date, record.station_id, record.advisor_id))
        prefix = f"{SERVICE_NUMBER_PREFIX}{self.street.code}"
        sequence = first_free(ServiceRecord, "record_number", prefix, 7)
        for record in services:
            record.record_number = f"{prefix}{sequence:07d}"
            sequence += 1
        ServiceRecord.objects.bulk_create(services, batch_size=BATCH)
        for record in services:
            record.created_at = record.updated_at = stamp(record.date, 17)
        if services:
            ServiceRecord.objects.filter(
                record_number__startswith=prefix, record_number__gte=services[0].record_number
            ).update(
                created_at=on_day_at(F("date"), 17, self.today),
                updated_at=on_day_at(F("date"), 17, self.today),
            )
        counts.add("services", len(services))
        counts.add("group_services", sum(record.recipient is None for record in services))
        return services

    def need_services(self, rng, need, plan, resource, linked_on):
        """The services along a need: found, assessed, linked, followed up, closed."""
        recipient = plan.recipient
        point = self.points.get(recipient.committee_id)
        prefer = recipient.advisor_id
        status = need.status
        steps = []
        if need.source == NeedSource.APPLICATION:
            steps.append(
                (
                    need.found_on,
                    ServiceTask.APPLICATION_INTAKE,
                    ServiceItem.INVESTIGATION,
                    ServiceStep.DISCOVER,
                    None,
                )
            )
        elif need.source == NeedSource.VISIT:
            steps.append(
                (
                    need.found_on,
                    ServiceTask.HOME_VISIT,
                    ServiceItem.DISCOVERY,
                    ServiceStep.DISCOVER,
                    None,
                )
            )
        else:
            steps.append(
                (
                    need.found_on,
                    ServiceTask.NEEDS_SCREENING,
                    ServiceItem.DISCOVERY,
                    ServiceStep.DISCOVER,
                    None,
                )
            )
        if status != NeedStatus.TO_ASSESS:
            day = min(
                need.found_on + datetime.timedelta(days=rng.randint(1, 7)),
                need.closed_on or self.today,
            )
            steps.append(
                (
                    day,
                    ServiceTask.NEEDS_SCREENING,
                    ServiceItem.INVESTIGATION,
                    ServiceStep.ASSESS,
                    None,
                )
            )
        if resource is not None:
            steps.append(
                (
                    linked_on,
                    ServiceTask.RESOURCE_LINK,
                    ServiceItem.LINKING,
                    ServiceStep.LINK,
                    resource,
                )
            )
            follow = linked_on + datetime.timedelta(days=rng.randint(7, 30))
            if follow <= (need.closed_on or self.today):
                item = (
                    ServiceItem.CARE
                    if need.category == NeedCategory.PSYCHOLOGICAL
                    else ServiceItem.DISCOVERY
                )
                steps.append((follow, ServiceTask.HOME_VISIT, item, ServiceStep.FOLLOW_UP, None))
        if need.closed_on:
            steps.append(
                (
                    need.closed_on,
                    ServiceTask.DAILY_CONTACT,
                    ServiceItem.LINKING,
                    ServiceStep.CLOSE,
                    None,
                )
            )
        records = []
        for day, task, item, step, linked in steps:
            if task == ServiceTask.APPLICATION_INTAKE:
                record = self.service(
                    rng, day, task, item, recipient=recipient, point=None, step=step, need=need
                )
            else:
                record = self.service(
                    rng,
                    day,
                    task,
                    item,
                    recipient=recipient,
                    point=point,
                    prefer=prefer,
                    step=step,
                    need=need,
                    resource=linked,
                )
            if record is not None:
                records.append(record)
        return records

    def group_activities(self, rng):
        """Group activities with head counts: at each staffed point and the street station."""
        records = []
        stations = [self.street_station] if self.street_station else []
        stations += sorted(
            (staff for staff in self.points.values() if staff.station.street_id == self.street.pk),
            key=lambda staff: staff.station.pk,
        )
        for staff in stations:
            if staff.station.status != StationStatus.RUNNING or not staff.advisors:
                continue
            kind = staff.station.kind
            count = rng.randint(6, 12) if kind == StationKind.STREET else rng.randint(3, 7)
            for _number in range(count):
                task, item, content = GROUP_ACTIVITIES[kind][rng.randrange(3)]
                day = days_ago(self.today, 0, 364, rng)
                low, high = (15, 80) if kind == StationKind.STREET else (8, 40)
                record = self.service(
                    rng,
                    day,
                    task,
                    item,
                    point=staff,
                    head_count=rng.randint(low, high),
                    content=content,
                    step=ServiceStep.DISCOVER,
                )
                if record is not None and record.station_id == staff.station.pk:
                    records.append(record)
        return records

    # Evaluations and reviews ----------------------------------------------------------------

    def seed_evaluations(self, services, counts):
        """A few ratings per station: entered by staff after a service, and from the public page."""
        rng = random.Random(f"demo-evaluations:{self.street.code}")
        by_station = defaultdict(list)
        for record in services:
            if record.recipient_id is not None:
                by_station[record.station_id].append(record)
        evaluations = []
        for station_id in sorted(by_station):
            records = by_station[station_id]
            for record in rng.sample(records, min(len(records), rng.randint(2, 4))):
                evaluations.append(
                    (
                        Evaluation(
                            station_id=station_id,
                            service=record,
                            rating=pick(rng, RATING_WEIGHTS),
                            comment=rng.choice(EVALUATION_COMMENTS) if rng.random() < 0.4 else "",
                            source=EvaluationSource.STAFF,
                            entered_by_id=record.recorded_by_id,
                        ),
                        min(record.date + datetime.timedelta(days=rng.randint(0, 3)), self.today),
                    )
                )
            for _number in range(rng.randint(1, 3)):
                evaluations.append(
                    (
                        Evaluation(
                            station_id=station_id,
                            rating=pick(rng, RATING_WEIGHTS),
                            comment=rng.choice(EVALUATION_COMMENTS) if rng.random() < 0.5 else "",
                            source=EvaluationSource.PUBLIC,
                        ),
                        days_ago(self.today, 0, 300, rng),
                    )
                )
        Evaluation.objects.bulk_create([row[0] for row in evaluations], batch_size=BATCH)
        for evaluation, day in evaluations:
            evaluation.created_at = stamp(day, 15)
        by_day = defaultdict(list)
        for evaluation, day in evaluations:
            by_day[day].append(evaluation.pk)
        for day in sorted(by_day):
            Evaluation.objects.filter(pk__in=by_day[day]).update(created_at=stamp(day, 15))
        counts.add("evaluations", len(evaluations))

    def seed_reviews(self, counts):
        """In some streets the manager reviewed an unchanged list: the roster this month,
        the resource list last month."""
        if self.manager_id is None or int(self.street.code[-3:]) % 2 == 0:
            return
        this_month = max(self.today.replace(day=1), self.today - datetime.timedelta(days=2))
        last_month = self.today.replace(day=1) - datetime.timedelta(days=3)
        reviews = [
            ChecklistReview(
                street=self.street,
                checklist=Checklist.ADVISORS,
                reviewed_on=this_month,
                by_id=self.manager_id,
                note="本月顾问人员无变动，已逐一核对。",
            ),
            ChecklistReview(
                street=self.street,
                checklist=Checklist.RESOURCES,
                reviewed_on=last_month,
                by_id=self.manager_id,
                note="资源清单已复核，联系方式和有效期无变化。",
            ),
        ]
        ChecklistReview.objects.bulk_create(reviews)
        counts.add("reviews", len(reviews))
