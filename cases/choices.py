"""The choices of the cases app (DOMAIN.md, "Work"; the notice 三(四))."""

from django.db import models
from django.utils.translation import gettext_lazy as _

# One list of genders for the advisors and the people they serve.
from advisors.choices import Gender as Gender


class HardshipLevel(models.TextChoices):
    HIGH = "high", _("高")
    MEDIUM = "medium", _("中")
    LOW = "low", _("低")


class RecipientStatus(models.TextChoices):
    """在册 while the person is on the register; 已退出 with a date and a reason."""

    REGISTERED = "registered", _("在册")
    EXITED = "exited", _("已退出")


class NeedCategory(models.TextChoices):
    LIVING = "living", _("生活")
    MEDICAL = "medical", _("医疗")
    EDUCATION = "education", _("教育")
    HOUSING = "housing", _("住房")
    EMPLOYMENT = "employment", _("就业")
    PSYCHOLOGICAL = "psychological", _("心理")
    CARE = "care", _("照护")
    OTHER = "other", _("其他")


class NeedSource(models.TextChoices):
    """How a need was found."""

    VISIT = "visit", _("走访")
    APPLICATION = "application", _("来站申请")
    DATA_LEAD = "data_lead", _("数据比对线索")
    REFERRAL = "referral", _("转介")


class Urgency(models.TextChoices):
    URGENT = "urgent", _("紧急")
    SOON = "soon", _("较急")
    NORMAL = "normal", _("一般")


class NeedStatus(models.TextChoices):
    """待评估 → 待对接 → 已对接 → 已解决 / 无法解决 (with a reason)."""

    TO_ASSESS = "to_assess", _("待评估")
    TO_LINK = "to_link", _("待对接")
    LINKED = "linked", _("已对接")
    RESOLVED = "resolved", _("已解决")
    UNRESOLVABLE = "unresolvable", _("无法解决")


OPEN_NEED_STATUSES = (NeedStatus.TO_ASSESS, NeedStatus.TO_LINK, NeedStatus.LINKED)
CLOSED_NEED_STATUSES = (NeedStatus.RESOLVED, NeedStatus.UNRESOLVABLE)

# The steps a need may take next; a closed need is reopened only by a new need.
NEED_TRANSITIONS = {
    NeedStatus.TO_ASSESS: (NeedStatus.TO_LINK, NeedStatus.RESOLVED, NeedStatus.UNRESOLVABLE),
    NeedStatus.TO_LINK: (NeedStatus.LINKED, NeedStatus.RESOLVED, NeedStatus.UNRESOLVABLE),
    NeedStatus.LINKED: (NeedStatus.RESOLVED, NeedStatus.UNRESOLVABLE, NeedStatus.TO_LINK),
    NeedStatus.RESOLVED: (),
    NeedStatus.UNRESOLVABLE: (),
}


class ResourceType(models.TextChoices):
    POLICY = "policy", _("政策")
    FUND = "fund", _("资金")
    PROJECT = "project", _("服务项目")
    ORGANISATION = "organisation", _("社会组织")
    ENTERPRISE = "enterprise", _("爱心企业")
    VOLUNTEERING = "volunteering", _("志愿服务")
    CHARITY = "charity", _("慈善")


class AreaLevel(models.TextChoices):
    """Where a resource is offered: the whole district, one street, one committee."""

    DISTRICT = "district", _("全区")
    STREET = "street", _("街镇")
    COMMITTEE = "committee", _("居委")


class ServiceItem(models.TextChoices):
    """The six unified service items of the notice (统一服务事项)."""

    PUBLICITY = "publicity", _("政策宣传引导")
    DISCOVERY = "discovery", _("社区走访发现")
    INVESTIGATION = "investigation", _("开展家境调查")
    LINKING = "linking", _("资源整合对接")
    CARE = "care", _("心理关爱疏导")
    SUPPORT_SYSTEM = "support_system", _("社区支持体系建设")


class ServiceTask(models.TextChoices):
    """The tasks of a street station and of a committee point (资源链接 at both)."""

    POLICY_ANSWER = "policy_answer", _("政策解答")
    APPLICATION_INTAKE = "application_intake", _("申请受理")
    RESOURCE_LINK = "resource_link", _("资源链接")
    HOME_VISIT = "home_visit", _("上门走访")
    NEEDS_SCREENING = "needs_screening", _("需求排摸")
    POLICY_GUIDANCE = "policy_guidance", _("政策引导")
    PROXY_APPLICATION = "proxy_application", _("代办申请")
    DAILY_CONTACT = "daily_contact", _("日常联系")


STREET_STATION_TASKS = (
    ServiceTask.POLICY_ANSWER,
    ServiceTask.APPLICATION_INTAKE,
    ServiceTask.RESOURCE_LINK,
)
COMMITTEE_POINT_TASKS = (
    ServiceTask.HOME_VISIT,
    ServiceTask.NEEDS_SCREENING,
    ServiceTask.POLICY_GUIDANCE,
    ServiceTask.PROXY_APPLICATION,
    ServiceTask.RESOURCE_LINK,
    ServiceTask.DAILY_CONTACT,
)


class ServiceStep(models.IntegerChoices):
    """The service process (规范的服务流程), in order: a file shows the furthest step."""

    DISCOVER = 1, _("发现")
    ASSESS = 2, _("评估")
    LINK = 3, _("对接")
    FOLLOW_UP = 4, _("跟踪")
    CLOSE = 5, _("结案")


class Rating(models.TextChoices):
    SATISFIED = "satisfied", _("满意")
    FAIRLY_SATISFIED = "fairly_satisfied", _("基本满意")
    DISSATISFIED = "dissatisfied", _("不满意")


SATISFIED_RATINGS = (Rating.SATISFIED, Rating.FAIRLY_SATISFIED)


class EvaluationSource(models.TextChoices):
    STAFF = "staff", _("工作人员录入")
    PUBLIC = "public", _("群众评议页面")


class Checklist(models.TextChoices):
    """The four checklists (四项清单) a street keeps."""

    ADVISORS = "advisors", _("社区救助顾问人员清单")
    NEEDS = "needs", _("困难人员需求清单")
    RESOURCES = "resources", _("社会救助资源清单")
    SERVICES = "services", _("社区救助顾问服务清单")


class LeadStatus(models.TextChoices):
    """A lead's path (政策找人): 待核实 → 已走访 → 纳入 / 不符合 / 无法联系."""

    PENDING = "pending", _("待核实")
    VISITED = "visited", _("已走访")
    ENROLLED = "enrolled", _("纳入")
    INELIGIBLE = "ineligible", _("不符合")
    UNREACHABLE = "unreachable", _("无法联系")


OPEN_LEAD_STATUSES = (LeadStatus.PENDING, LeadStatus.VISITED)
CLOSED_LEAD_STATUSES = (LeadStatus.ENROLLED, LeadStatus.INELIGIBLE, LeadStatus.UNREACHABLE)


class LeadField(models.TextChoices):
    """What a column of a department's list may be mapped to (the facts aside)."""

    NAME = "name", _("姓名")
    ID_NUMBER = "id_number", _("身份证号")
    COMMITTEE_CODE = "committee_code", _("居委代码")
    ADDRESS = "address", _("地址")
    PHONE = "phone", _("联系电话")


class LeadRowOutcome(models.TextChoices):
    """What became of one row of a lead list (the upload's report)."""

    MATCHED = "matched", _("已在册,情况记入档案")
    NEW_LEAD = "new_lead", _("新线索")
    MERGED = "merged", _("并入已有线索")
    DUPLICATE = "duplicate", _("重复,已处理过")
    INVALID = "invalid", _("无效")
    UNPLACEABLE = "unplaceable", _("无法定位居委,待区民政局分派")
