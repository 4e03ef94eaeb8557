"""The network's models: N1 names on save, and the 统一社会信用代码 of professional points."""

import pytest
from django.core.exceptions import ValidationError

from stations.choices import StationKind, StationStatus
from stations.models import Station
from stations.tests.factories import (
    committee_point,
    make_committee,
    make_district,
    make_street,
    street_station,
)
from stations.validators import credit_code_check_character, validate_credit_code

FIRST17 = "52310105MJ1234567"
VALID_CODE = FIRST17 + credit_code_check_character(FIRST17)


def wrong_check_character(code):
    return next(char for char in "0123456789" if char != code[17])


class TestCreditCode:
    def test_a_code_with_its_check_character_is_accepted(self):
        validate_credit_code(VALID_CODE)
        assert len(VALID_CODE) == 18

    def test_a_published_code_is_accepted(self):
        # The example code of GB 32100-2015's check-character annex.
        validate_credit_code("91350100M000100Y43")

    def test_lower_case_is_accepted_as_the_same_code(self):
        validate_credit_code(VALID_CODE.lower())

    def test_a_wrong_check_character_is_rejected_in_chinese(self):
        code = VALID_CODE[:17] + wrong_check_character(VALID_CODE)
        with pytest.raises(ValidationError) as raised:
            validate_credit_code(code)
        assert raised.value.code == "credit_code_checksum"
        assert "校验位不正确" in raised.value.messages[0]

    @pytest.mark.parametrize("code", ["", VALID_CODE[:17], VALID_CODE + "1"])
    def test_a_wrong_length_is_rejected_with_the_length(self, code):
        with pytest.raises(ValidationError) as raised:
            validate_credit_code(code)
        assert raised.value.code == "credit_code_length"
        assert raised.value.messages == [f"统一社会信用代码应为18位,当前为{len(code)}位。"]

    @pytest.mark.parametrize("letter", ["I", "O", "Z", "S", "V", "-"])
    def test_characters_outside_gb_32100_are_rejected_and_named(self, letter):
        code = VALID_CODE[:10] + letter + VALID_CODE[11:]
        with pytest.raises(ValidationError) as raised:
            validate_credit_code(code)
        assert raised.value.code == "credit_code_charset"
        assert letter in raised.value.messages[0]
        assert "不允许的字符" in raised.value.messages[0]


@pytest.mark.django_db
class TestStationNames:
    def test_stations_are_named_by_n1_when_saved(self):
        district = make_district()
        town = make_street(district, "新泾镇", "310105102")
        committee = make_committee(town, "新泾一村居委会", "310105102001")

        assert street_station(town).name == "长宁区新泾镇社区救助顾问服务站"
        assert committee_point(committee).name == "新泾镇新泾一村居委社区救助顾问服务点"
        guidance = Station.objects.get(kind=StationKind.GUIDANCE, district=district)
        assert guidance.name == "长宁区社区救助顾问区指导站"

    def test_a_professional_point_is_named_after_its_organisation(self):
        district = make_district()
        street = make_street(district, "华阳路街道", "310105001")
        point = Station.objects.create(
            kind=StationKind.PROFESSIONAL,
            district=district,
            street=street,
            organisation_name="乐群社工服务社",
            organisation_credit_code=VALID_CODE,
        )
        assert point.name == "华阳路街道乐群社工服务社社区救助顾问专业服务点"
        assert point.status == StationStatus.PLANNING

    def test_a_renamed_committee_renames_its_point_on_the_next_save(self):
        district = make_district()
        street = make_street(district, "华阳路街道", "310105001")
        committee = make_committee(street, "华一居委会", "310105001001")
        committee.name = "华阳一居委会"
        committee.save()

        point = committee_point(committee)
        point.save()
        point.refresh_from_db()
        assert point.name == "华阳路街道华阳一居委社区救助顾问服务点"

    def test_a_typed_name_is_replaced_by_the_standard_name(self):
        district = make_district()
        street = make_street(district, "华阳路街道", "310105001")
        station = street_station(street)
        station.name = "随便起的名字"
        station.save()
        station.refresh_from_db()
        assert station.name == "长宁区华阳路街道社区救助顾问服务站"

    def test_signboard_follows_c3_only_with_the_standard_name_and_the_logo(self):
        district = make_district()
        station = street_station(make_street(district, "华阳路街道", "310105001"))
        station.signboard_name = "长宁区华阳路街道社区救助顾问服务站"
        assert not station.has_standard_signboard
        station.has_unified_logo = True
        assert station.has_standard_signboard
        station.signboard_name = "华阳路街道救助顾问站"
        assert not station.has_standard_signboard


@pytest.mark.django_db
class TestProfessionalPointValidation:
    def make_point(self, **fields):
        district = make_district()
        street = make_street(district, "华阳路街道", "310105001")
        return Station(
            kind=StationKind.PROFESSIONAL,
            district=district,
            street=street,
            **{"organisation_name": "乐群社工服务社", "organisation_credit_code": VALID_CODE}
            | fields,
        )

    def test_a_valid_point_passes_full_clean(self):
        self.make_point().full_clean()

    def test_a_bad_credit_code_fails_full_clean_on_its_field(self):
        point = self.make_point(organisation_credit_code=VALID_CODE[:17] + "!")
        with pytest.raises(ValidationError) as raised:
            point.full_clean()
        assert "organisation_credit_code" in raised.value.message_dict

    def test_a_point_needs_its_organisation_and_code(self):
        point = self.make_point(organisation_name=" ", organisation_credit_code="")
        with pytest.raises(ValidationError) as raised:
            point.full_clean()
        errors = raised.value.message_dict
        assert errors["organisation_name"] == ["专业服务点必须填写社会组织名称。"]
        assert "organisation_credit_code" in errors
