"""Demo exemplary cases: invented, already anonymised, in the Ministry's five-section style.

Published cases are generated from scenario templates (one per kind of dispute, citing real
articles) filled with varied data, spread over counties of 吉林省 and 云南省 and over the years;
a few more cases go through the real operations so that every review tier has a queue.
"""
from __future__ import annotations

import datetime as dt
import json
import random

from sqlalchemy import select

from case_library import operations
from case_library.models import CaseReview, CaseRevision, CaseState, ExemplaryCase
from case_library.search import reindex_all
from portal import audit
from portal.extensions import db
from portal.places.models import Region

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁沈姚卢姜崔"

#: Each scenario: dispute type, title patterns, the five sections, keywords. ``{a}``/``{b}``/``{c}``
#: are anonymised parties, ``{n}``/``{m}`` amounts, ``{y}`` years, ``{org}`` the committee.
SCENARIOS = [
    {
        "type": "房屋宅基地",
        "titles": ["一起因宅基地边界引发的邻里纠纷调解案", "{a}与{b}宅基地界址纠纷调解案", "翻建房屋越界引发的宅基地纠纷调解案"],
        "keywords": "宅基地、界址、相邻关系、实地勘测",
        "facts": "{a}与{b}系同村前后院邻居。{y}年春，{b}在原址翻建房屋时，将东侧院墙向{a}家宅基地方向外移约{k}米，{a}认为{b}侵占其宅基地，双方多次争吵，{a}之子一度阻拦施工，矛盾有激化趋势。{a}遂向{org}申请调解。",
        "process": "调解员受理后，先分别走访双方了解情况，并会同村委会调取了两户的宅基地使用证和原始档案，邀请乡镇自然资源所工作人员到场实地勘测。经核对，{b}新砌院墙确有约{k}米超出其证载四至。调解员向双方讲解了《民法典》关于相邻关系和不动产权利的规定，指出{b}越界建墙侵犯了{a}的合法权益；同时考虑到院墙已经砌成、拆除重建成本较高，引导{a}从邻里长远相处出发，考虑以补偿方式解决。经过三次面对面调解和多次背靠背沟通，双方态度逐渐缓和。",
        "result": "双方自愿达成调解协议：{b}于{d}日内将超出界址部分的院墙拆除并按证载界址重砌，所需费用由{b}承担；{a}不再阻拦{b}房屋施工；双方今后按照宅基地使用证确定的界址使用土地。协议已履行完毕，回访时双方关系和睦。",
        "comment": "宅基地纠纷事关群众切身利益，处理不当极易激化。本案中调解员没有简单“和稀泥”，而是借助权属档案和专业测量查清事实，以证据说话；在此基础上兼顾法理与人情，引导当事人互谅互让，既维护了一方的合法权益，又避免了拆除重建的不必要损失，体现了人民调解“依法调解、情理兼顾”的特点。",
        "law": "1.《中华人民共和国民法典》第二百八十八条：不动产的相邻权利人应当按照有利生产、方便生活、团结互助、公平合理的原则，正确处理相邻关系。\n2.《中华人民共和国民法典》第二百三十六条：妨害物权或者可能妨害物权的，权利人可以请求排除妨害或者消除危险。\n3.《中华人民共和国人民调解法》第二十二条：人民调解员根据纠纷的不同情况，可以采取多种方式调解民间纠纷，充分听取当事人的陈述，讲解有关法律、法规和国家政策，耐心疏导，在当事人平等协商、互谅互让的基础上提出纠纷解决方案，帮助当事人自愿达成调解协议。",
    },
    {
        "type": "婚姻家庭",
        "titles": ["多子女赡养老人纠纷调解案", "{c}与子女赡养纠纷调解案", "一起因老人赡养费分担引发的家庭纠纷调解案"],
        "keywords": "赡养、赡养费、家庭矛盾、孝老爱亲",
        "facts": "{c}现年{age}岁，老伴已去世多年，育有二子一女。{c}患有高血压、糖尿病等慢性病，常年服药，生活基本靠自己种地和低保维持。长子{a}、次子{b}因老宅分配问题多年不和，均以对方分得财产多为由拒绝承担赡养责任，{c}的生活和就医出现困难，遂请村调委会出面调解。",
        "process": "调解员先后到{c}家中和三名子女处走访，了解到矛盾的症结在于多年前老宅分配时兄弟二人心存芥蒂。调解员召集家庭会议，邀请村里德高望重的老党员一同参与，向子女们讲解《民法典》关于赡养义务的规定，明确指出赡养义务不以分得财产多少为前提，不得附加任何条件。调解员又讲述{c}独自抚养子女的艰辛，子女们深受触动。针对老宅问题，调解员建议另行协商，不与赡养问题挂钩。",
        "result": "三名子女自愿达成协议：自{y}年起，兄妹三人每人每月向{c}支付赡养费{m}元，于每月五日前转入{c}账户；{c}患病住院期间的医疗费用扣除医保报销部分后由三人平均分担；{c}由长子{a}负责日常照料，其他二人每周至少探望一次。调解员定期回访，协议履行良好。",
        "comment": "赡养老人是子女的法定义务，也是中华民族的传统美德。本案调解员抓住“财产分配不公”这一心结，把赡养义务与财产问题分开处理，依法明确赡养义务的无条件性；同时借助乡贤力量，以情感人、以理服人，促成家庭和解，让老人老有所养。",
        "law": "1.《中华人民共和国民法典》第一千零六十七条第二款：成年子女不履行赡养义务的，缺乏劳动能力或者生活困难的父母，有要求成年子女给付赡养费的权利。\n2.《中华人民共和国民法典》第一千零六十九条：子女应当尊重父母的婚姻权利，不得干涉父母离婚、再婚以及婚后的生活。子女对父母的赡养义务，不因父母的婚姻关系变化而终止。\n3.《中华人民共和国老年人权益保障法》第十四条：赡养人应当履行对老年人经济上供养、生活上照料和精神上慰藉的义务，照顾老年人的特殊需要。",
    },
    {
        "type": "劳动争议",
        "titles": ["农民工讨要劳动报酬纠纷调解案", "{n}名务工人员欠薪纠纷调解案", "一起工程项目拖欠工资纠纷调解案"],
        "keywords": "欠薪、劳动报酬、农民工、分期支付",
        "facts": "{y}年，{a}等{n}名务工人员经人介绍到{b}承包的建筑工地从事木工、钢筋工作业。工程完工后，{b}以发包方未结清工程款为由，拖欠{a}等人工资共计{money}万元。{a}等人多次讨要未果，情绪激动，欲到有关部门集体上访。",
        "process": "{org}接到当地人社部门转来的线索后，第一时间介入。调解员一方面稳定务工人员情绪，告知其依法理性维权的途径；另一方面约见{b}和项目发包方负责人，核对考勤记录和工资表，确认欠薪数额无误。调解员向发包方讲解《保障农民工工资支付条例》的规定，指出工程款纠纷不能成为拖欠农民工工资的理由，施工总承包单位对农民工工资负有先行清偿的责任。经反复做工作，发包方同意从应付工程款中直接代发工资。",
        "result": "三方达成调解协议：由发包方从应付{b}的工程款中直接支付{a}等{n}人全部工资{money}万元，分两期于三十日内付清；{a}等人不再采取过激方式讨薪。协议已按期履行，务工人员领到了全部工资。",
        "comment": "拖欠农民工工资问题关系民生和社会稳定。本案调解员把握“快”和“准”：快速介入防止矛盾升级，准确核对证据锁定欠薪数额，并依据行政法规明确总承包单位的清偿责任，通过代发方式切实解决了欠薪问题，实现了法律效果和社会效果的统一。",
        "law": "1.《中华人民共和国劳动合同法》第三十条第一款：用人单位应当按照劳动合同约定和国家规定，向劳动者及时足额支付劳动报酬。\n2.《保障农民工工资支付条例》第三十条第一款：分包单位对所招用农民工的实名制管理和工资支付负直接责任。\n3.《中华人民共和国人民调解法》第三十一条：经人民调解委员会调解达成的调解协议，具有法律约束力，当事人应当按照约定履行。",
    },
    {
        "type": "道路交通",
        "titles": ["电动车与轿车相撞交通事故赔偿纠纷调解案", "一起道路交通事故损害赔偿纠纷调解案", "{a}与{b}交通事故赔偿纠纷调解案"],
        "keywords": "交通事故、损害赔偿、保险理赔、责任划分",
        "facts": "{y}年{mon}月，{b}驾驶小型轿车在路口右转时，与骑电动自行车直行的{a}发生碰撞，致{a}右腿骨折，住院治疗{d}天。经交警部门认定，{b}负事故主要责任，{a}负次要责任。双方就医疗费、误工费、护理费等赔偿数额协商未果，{a}家属情绪激动。",
        "process": "道路交通事故人民调解委员会受理后，调解员邀请保险公司理赔人员共同参与调解。调解员依据交警部门的责任认定，逐项核算了医疗费、误工费、护理费、营养费和交通费，向双方解释了交强险先行赔付、商业险按责任比例赔付的规则。{a}家属起初提出的赔偿数额明显过高，调解员耐心解释法定赔偿标准；{b}一方则对误工时间有异议，调解员调取了医院出具的休息证明，消除了双方分歧。",
        "result": "经调解，各方达成协议：由保险公司在交强险和商业第三者责任险范围内赔付{a}各项损失共计{money}万元，{b}另行支付{a}营养费等{m}元；{a}放弃其他赔偿请求。双方当场签署调解协议书，并于三十日内共同申请了司法确认。",
        "comment": "交通事故赔偿纠纷专业性强，涉及责任划分、赔偿标准和保险理赔等多个环节。本案采用“调解员+保险理赔员”联动模式，依据责任认定逐项算清赔偿账，让当事人明明白白接受结果；引导当事人申请司法确认，增强了调解协议的执行力。",
        "law": "1.《中华人民共和国道路交通安全法》第七十六条第一款：机动车发生交通事故造成人身伤亡、财产损失的，由保险公司在机动车第三者责任强制保险责任限额范围内予以赔偿；不足的部分，按照下列规定承担赔偿责任……\n2.《中华人民共和国民法典》第一千二百零八条：机动车发生交通事故造成损害的，依照道路交通安全法律和本法的有关规定承担赔偿责任。\n3.《中华人民共和国人民调解法》第三十三条第一款：经人民调解委员会调解达成调解协议后，双方当事人认为有必要的，可以自调解协议生效之日起三十日内共同向人民法院申请司法确认。",
    },
    {
        "type": "邻里纠纷",
        "titles": ["楼上漏水引发的邻里纠纷调解案", "一起因房屋渗漏引发的相邻纠纷调解案", "{a}与{b}漏水损害赔偿纠纷调解案"],
        "keywords": "漏水、相邻关系、损害赔偿、物业协助",
        "facts": "{a}与{b}系同一单元上下楼邻居。{y}年{mon}月起，{a}家卫生间顶棚多次出现渗水，墙面发霉、吊顶脱落。{a}认为系楼上{b}家防水层损坏所致，要求{b}维修并赔偿损失；{b}则认为渗水可能来自公共管道，拒绝承担责任。双方多次争执，关系紧张。",
        "process": "社区人民调解委员会受理后，调解员联系物业公司维修人员上门，对{b}家卫生间进行闭水试验，确认渗漏系{b}家卫生间防水层老化所致。调解员向双方讲解《民法典》关于相邻关系和侵权责任的规定，指出{b}有义务维修并赔偿由此造成的损失；同时考虑{b}并非故意，引导{a}在赔偿数额上适当让步。",
        "result": "双方达成调解协议：{b}于{d}日内请专业人员重做卫生间防水，费用自理；{b}一次性赔偿{a}吊顶、墙面修复费用{m}元。维修完成后经闭水试验不再渗漏，赔偿款已当场付清。",
        "comment": "漏水纠纷是城市社区最常见的邻里纠纷之一，难点在于查明漏水原因。本案调解员借助物业专业力量查清原因，用事实化解分歧，再依法明确责任、以情促成让步，小矛盾就地化解在社区。",
        "law": "1.《中华人民共和国民法典》第二百九十六条：不动产权利人因用水、排水、通行、铺设管线等利用相邻不动产的，应当尽量避免对相邻的不动产权利人造成损害。\n2.《中华人民共和国民法典》第一千一百六十五条第一款：行为人因过错侵害他人民事权益造成损害的，应当承担侵权责任。",
    },
    {
        "type": "借贷纠纷",
        "titles": ["亲友间民间借贷纠纷调解案", "{a}与{b}民间借贷纠纷调解案", "一起因借款逾期未还引发的纠纷调解案"],
        "keywords": "民间借贷、借条、分期还款、利息",
        "facts": "{y}年，{b}因经营养殖场资金周转困难，向同村好友{a}借款{money}万元，出具借条一张，约定一年内归还，未约定利息。借款到期后，{b}因养殖亏损无力偿还，{a}多次催要未果，双方由好友变为“仇人”，{a}准备起诉。",
        "process": "村人民调解委员会受理后，调解员分别与双方谈心。{a}担心借款打水漂，{b}则表示并非有意赖账，只是暂时拿不出钱。调解员核实了借条的真实性，向{b}讲解《民法典》关于借款人应按约定期限返还借款的规定，指出逾期不还要承担法律责任；向{a}说明若诉讼，{b}目前确无财产可供执行，分期还款更有利于实现债权。在调解员的建议下，双方重新商定了还款计划。",
        "result": "双方达成调解协议：{b}分{d}期偿还{a}借款{money}万元，每期于当月月底前还款，逾期一期则{a}可就剩余全部借款申请强制执行；{a}放弃逾期利息。双方共同申请了司法确认，目前{b}已按期还款。",
        "comment": "民间借贷纠纷多发生在熟人之间，诉讼往往“赢了官司、输了感情”，且执行难。本案调解员在依法确认债权的基础上，从双方实际出发设计分期还款方案，并引导申请司法确认以保障履行，既保护了出借人的权益，也给借款人留出了喘息空间。",
        "law": "1.《中华人民共和国民法典》第六百七十五条：借款人应当按照约定的期限返还借款。\n2.《中华人民共和国民法典》第六百八十条第三款：借款合同对支付利息没有约定的，视为没有利息。\n3.《中华人民共和国人民调解法》第三十三条第二款：人民法院依法确认调解协议有效，一方当事人拒绝履行或者未全部履行的，对方当事人可以向人民法院申请强制执行。",
    },
    {
        "type": "物业纠纷",
        "titles": ["小区业主拒交物业费纠纷调解案", "一起物业服务质量引发的物业费纠纷调解案", "{a}等业主与物业公司服务纠纷调解案"],
        "keywords": "物业费、物业服务合同、业主权益、服务整改",
        "facts": "某小区{n}户业主以物业公司服务不到位、电梯经常故障、公共区域卫生差为由，拒交{y}年度物业费，累计欠费{money}万元。物业公司多次催缴无果，扬言停止保洁和垃圾清运服务，业主代表{a}与物业公司项目经理{b}发生激烈争执。",
        "process": "街道人民调解委员会联合社区居委会、业主委员会共同开展调解。调解员组织召开“三方恳谈会”，让业主逐条说出对物业服务的意见，再由物业公司逐项回应。调解员向双方讲解《民法典》物业服务合同的规定：业主应按约定支付物业费，不得以未接受服务为由拒绝；物业公司应按约定提供服务，不得以停水停电等方式催交。在此基础上，调解员推动双方就服务整改和缴费达成一揽子方案。",
        "result": "双方达成调解协议：物业公司于{d}日内完成电梯维保、增加保洁频次并公示服务标准；业主在整改验收合格后十日内补交物业费，物业公司对逾期部分不收取违约金；业委会每季度组织一次服务评议。协议履行后，小区物业费收缴率明显提升。",
        "comment": "物业纠纷涉及人数多、情绪对立，处理不好容易引发群体性矛盾。本案调解员依托“街道—社区—业委会—物业”联动机制，以服务整改换缴费承诺，既依法明确了双方权利义务，又建立了长效沟通机制，实现了“案结事了”。",
        "law": "1.《中华人民共和国民法典》第九百四十四条第一款：业主应当按照约定向物业服务人支付物业费。物业服务人已经按照约定和有关规定提供服务的，业主不得以未接受或者无需接受相关物业服务为由拒绝支付物业费。\n2.《中华人民共和国民法典》第九百四十二条第一款：物业服务人应当按照约定和物业的使用性质，妥善维修、养护、清洁、绿化和经营管理物业服务区域内的业主共有部分，维护物业服务区域内的基本秩序。\n3.《中华人民共和国民法典》第九百四十四条第三款：物业服务人不得采取停止供电、供水、供热、供燃气等方式催交物业费。",
    },
    {
        "type": "医疗纠纷",
        "titles": ["一起术后感染引发的医疗纠纷调解案", "{a}家属与某医院医疗损害赔偿纠纷调解案", "患者术后并发症医疗纠纷调解案"],
        "keywords": "医疗纠纷、医疗损害、医疗过错鉴定、医调委",
        "facts": "{y}年{mon}月，{a}因腿部骨折在某县医院接受内固定手术，术后出现切口感染，经二次手术清创后好转，住院时间延长{d}天。{a}家属认为医院消毒不严、术后观察不到位，聚集在医院要求赔偿{money}万元，医院则认为感染属于手术可能出现的并发症，双方僵持不下。",
        "process": "医疗纠纷人民调解委员会受理后，调解员首先劝离聚集人员，引导家属依法维权。调委会组织医学、法学专家进行专家咨询，专家认为医院在术后换药观察中存在一定不足，与感染加重存在一定因果关系，医院应承担次要责任。调解员依据专家意见和赔偿标准，分别向双方释明，家属接受了相对合理的赔偿数额，医院也表示愿意承担相应责任。",
        "result": "双方达成调解协议：医院一次性赔偿{a}医疗费、误工费、护理费等各项损失共计{m}元，并减免二次手术部分费用；{a}及家属不再就此事主张其他权利，不得再到医院聚集。协议已履行完毕。",
        "comment": "医疗纠纷专业性强、对抗激烈。本案发挥医调委“第三方”作用，引入专家咨询明晰责任，让医患双方在专业意见基础上理性协商，避免了“小闹小赔、大闹大赔”，维护了正常医疗秩序。",
        "law": "1.《中华人民共和国民法典》第一千二百一十八条：患者在诊疗活动中受到损害，医疗机构或者其医务人员有过错的，由医疗机构承担赔偿责任。\n2.《医疗纠纷预防和处理条例》第二十二条：发生医疗纠纷，医患双方可以通过下列途径解决：（一）双方自愿协商；（二）申请人民调解；（三）申请行政调解；（四）向人民法院提起诉讼；（五）法律、法规规定的其他途径。",
    },
    {
        "type": "土地承包",
        "titles": ["一起土地承包经营权流转纠纷调解案", "{a}与{b}土地流转租金纠纷调解案", "承包地流转合同到期引发的纠纷调解案"],
        "keywords": "土地承包、土地流转、流转合同、租金",
        "facts": "{y}年，{a}将其承包的{k}亩耕地流转给种植大户{b}种植玉米，双方签订了书面流转合同，约定每亩年租金{m}元，流转期限五年。合同第三年，{b}以粮价下跌为由要求降低租金，{a}不同意，{b}便拖欠当年租金，{a}扬言收回土地，双方发生冲突。",
        "process": "乡镇人民调解委员会受理后，调解员查看了流转合同，并到地块实地察看。调解员向{b}讲解《农村土地承包法》的规定，说明合同依法成立后双方应当全面履行，粮价波动属于正常商业风险，不能单方变更租金；同时向{a}说明{b}并无根本违约，单方收回土地不符合合同约定。调解员又帮助双方了解当年的种粮补贴政策，促使双方各让一步。",
        "result": "双方达成调解协议：{b}于{d}日内付清拖欠的当年租金；原合同继续履行，双方约定此后租金随当地粮食收购价上下浮动不超过百分之十；{a}不再要求收回土地。协议签订后已履行。",
        "comment": "土地流转纠纷关系农民增收和农业生产稳定。本案调解员坚持依合同办事，既纠正了承租方单方变更租金的做法，也制止了出租方擅自收回土地的冲动，并引导双方建立租金浮动机制，为类似纠纷的预防提供了借鉴。",
        "law": "1.《中华人民共和国农村土地承包法》第五十五条第一款：因土地承包经营发生纠纷的，双方当事人可以通过协商解决，也可以请求村民委员会、乡（镇）人民政府等调解解决。\n2.《中华人民共和国民法典》第五百零九条第一款：当事人应当按照约定全面履行自己的义务。",
    },
    {
        "type": "消费纠纷",
        "titles": ["一起预付卡退费消费纠纷调解案", "{a}与某健身机构预付费消费纠纷调解案", "商家闭店引发的预付式消费纠纷调解案"],
        "keywords": "预付卡、消费者权益、退费、闭店",
        "facts": "{y}年，{a}等{n}名消费者在某健身机构办理年卡，每人预付{m}元。不久该机构以装修为由停业，此后迟迟未恢复营业，消费者多次联系负责人{b}要求退费未果，遂集体向调委会申请调解。",
        "process": "调解员联合市场监管部门约见{b}，核实了会员名单和剩余服务期限。调解员向{b}讲解《消费者权益保护法》关于预付款方式提供服务的规定，指出经营者未按约定提供服务的，应当按照消费者的要求退还预付款；同时了解到该机构确有资金困难，调解员引导双方商定分期退费方案，并由{b}提供个人担保。",
        "result": "双方达成调解协议：健身机构按剩余服务期限折算，分三期向{a}等{n}名消费者退还预付款共计{money}万元，{b}对退款承担连带保证责任。目前退款已按期支付完毕。",
        "comment": "预付式消费纠纷涉及人数多、金额分散，个人诉讼成本高。本案通过人民调解与市场监管部门联动，依法明确经营者的退款责任，结合经营者实际设计分期方案并增加担保，有效保障了消费者的合法权益。",
        "law": "1.《中华人民共和国消费者权益保护法》第五十三条：经营者以预收款方式提供商品或者服务的，应当按照约定提供。未按照约定提供的，应当按照消费者的要求履行约定或者退回预付款；并应当承担预付款的利息、消费者必须支付的合理费用。\n2.《中华人民共和国人民调解法》第二十八条：经人民调解委员会调解达成调解协议的，可以制作调解协议书。",
    },
]

PUBLISHED_PER_SCENARIO = 7  # 10 scenarios × 7 = 70 published cases


def _names(rnd: random.Random) -> dict[str, str]:
    a, b, c = rnd.sample(SURNAMES, 3)
    out = {"a": a + "某", "b": b + "某", "c": c + "某"}
    if rnd.random() < 0.2:  # two parties of one surname: 张某 and 张某某
        out["b"] = a + "某某"
    return out


def _fill(template: str, values: dict) -> str:
    return template.format(**values)


def _values(rnd: random.Random, year: int, org: str) -> dict:
    return {**_names(rnd), "y": year, "mon": rnd.randint(1, 12), "k": rnd.choice(["0.5", "0.8", "1.2", "1.5"]),
            "d": rnd.choice([7, 10, 15, 20, 30]), "m": rnd.choice([300, 500, 800, 1200, 2600, 3800, 6500]),
            "n": rnd.randint(3, 40), "money": rnd.choice(["1.2", "3.5", "6.8", "12.6", "25", "38.4"]),
            "age": rnd.randint(72, 89), "org": org}


def case_fields(scenario: dict, values: dict, rnd: random.Random) -> dict:
    return {
        "title": _fill(rnd.choice(scenario["titles"]), values),
        "dispute_type": scenario["type"],
        "keywords": scenario["keywords"],
        "basic_facts": _fill(scenario["facts"], values),
        "process": _fill(scenario["process"], values),
        "result": _fill(scenario["result"], values),
        "commentary": scenario["comment"],
        "legal_basis": scenario["law"],
    }


def _counties(prefix: str) -> list[Region]:
    return list(db.session.execute(
        select(Region).where(Region.level == 3, Region.code.like(f"{prefix}%")).order_by(Region.code)
    ).scalars())


def load_demo_cases(ctx: dict) -> None:
    rnd = random.Random(2026)
    users = ctx["users"]
    mediator = users["mediator"]
    reviewers = {t: users[f"reviewer_{t}"] for t in ("township", "county", "city", "province")}
    yunnan = db.session.execute(select(Region).where(Region.code == "530000000000")).scalar_one_or_none()
    if yunnan is not None:
        operations.set_review_chain(None, yunnan, ["township", "county", "city"])
    regions = _counties("22")[:24] + _counties("53")[:16]
    if not regions:
        return
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    published = []
    for si, scenario in enumerate(SCENARIOS):
        for k in range(PUBLISHED_PER_SCENARIO):
            region = regions[(si * PUBLISHED_PER_SCENARIO + k) % len(regions)]
            year = rnd.randint(2019, 2025)
            published_at = dt.datetime(year, rnd.randint(1, 12), rnd.randint(1, 28), rnd.randint(1, 10))
            if published_at > now:
                published_at = now - dt.timedelta(days=rnd.randint(1, 300))
            org = "当地人民调解委员会"
            fields = case_fields(scenario, _values(rnd, year - 1, org), rnd)
            chain = operations.chain_for(region)
            level = rnd.choice([t for t in chain if str(t) in ("county", "city", "province")] or chain[-1:])
            tiers = chain[: chain.index(level) + 1]
            case = ExemplaryCase(
                author_id=mediator.id, region_id=region.id, state=str(CaseState.published),
                chain_csv=",".join(str(t) for t in tiers), level=str(level), revision_count=1,
                created_at=published_at - dt.timedelta(days=30), updated_at=published_at,
                published_at=published_at, featured=(k == 0 and si < 5), **fields,
            )
            db.session.add(case)
            db.session.flush()
            db.session.add(CaseRevision(case=case, number=1, author_id=mediator.id, created_at=case.created_at,
                                        replacements_json=json.dumps([]),
                                        **{k2: v for k2, v in fields.items()}))
            db.session.add(CaseReview(case=case, actor_id=mediator.id, action="submit", tier=None,
                                      revision_number=1, comment="第1稿", created_at=case.created_at))
            for t in tiers:
                db.session.add(CaseReview(case=case, actor_id=reviewers[str(t)].id,
                                          action="publish" if t == level else "approve", tier=str(t),
                                          revision_number=1, created_at=published_at))
            audit.record(None, "case_library.demo_publish", "exemplary_case", case.id, level=str(level))
            published.append(case)
    db.session.flush()

    # Cases waiting at every tier of 南岭街道 (the demo reviewers' chain), through the real operations.
    township = db.session.execute(select(Region).where(Region.code == "220102001000")).scalar_one()
    order = ["township", "county", "city", "province"]
    for i, stop in enumerate(order + ["township"]):
        scenario = SCENARIOS[(i + 3) % len(SCENARIOS)]
        values = _values(rnd, 2025, "南岭街道人民调解委员会")
        real = {"a": "刘德海", "b": "孙桂芝", "c": "刘长青"}
        fields = case_fields(scenario, {**values, **real}, rnd)
        fields["basic_facts"] += f"（申请人{real['a']}，联系电话1390431{rnd.randint(1000, 9999)}。）"
        case = operations.save_draft(mediator, None, region=township, fields=fields,
                                     party_names="\n".join(real.values()))
        operations.submit(mediator, case)
        for tier in order[: order.index(stop)]:
            operations.approve(reviewers[tier], case, case.version, "同意报送上级")
        case.queued_at = now - dt.timedelta(days=6 - i, hours=i * 3)
    # A returned case, resubmitted: the township reviewer sees a diff between revisions 1 and 2.
    scenario = SCENARIOS[1]
    fields = case_fields(scenario, _values(rnd, 2025, "南岭街道人民调解委员会"), rnd)
    case = operations.save_draft(mediator, None, region=township, fields=fields, party_names="")
    operations.submit(mediator, case)
    operations.return_for_revision(reviewers["township"], case, case.version,
                                   "调解过程写得过简，请补充家庭会议的具体做法。")
    case.process += "调解员还请子女们分别写下对老人的心里话，在家庭会议上当面念给老人听，现场气氛十分感人。"
    operations.submit(mediator, case)
    # A county-level case of 南岭 withdrawn by the county reviewer (who, or an admin, may republish it).
    own = random.Random(2027)  # its own sequence: the other demo texts stay as they were
    fields = case_fields(SCENARIOS[2], _values(own, 2024, "南岭街道人民调解委员会"), own)
    published_at = now - dt.timedelta(days=200)
    case = ExemplaryCase(
        author_id=mediator.id, region_id=township.id, state=str(CaseState.unpublished),
        chain_csv="township,county", level="county", revision_count=1, created_at=published_at - dt.timedelta(days=20),
        updated_at=now - dt.timedelta(days=3), published_at=published_at,
        unpublish_reason="案例评析引用的司法解释已修订，待作者核实后重新发布。", **fields,
    )
    db.session.add(case)
    db.session.flush()
    db.session.add(CaseRevision(case=case, number=1, author_id=mediator.id, created_at=case.created_at,
                                replacements_json=json.dumps([]), **fields))
    for action, actor, tier, when, comment in (
        ("submit", mediator, None, case.created_at, "第1稿"),
        ("approve", reviewers["township"], "township", published_at, ""),
        ("publish", reviewers["county"], "county", published_at, ""),
        ("unpublish", reviewers["county"], None, case.updated_at, case.unpublish_reason),
    ):
        db.session.add(CaseReview(case=case, actor_id=actor.id, action=action, tier=tier, revision_number=1,
                                  comment=comment, created_at=when))
    audit.record(None, "case_library.demo_unpublish", "exemplary_case", case.id)
    # And one returned case waiting for the mediator, and a draft.
    fields = case_fields(SCENARIOS[4], _values(rnd, 2025, "南岭街道人民调解委员会"), rnd)
    case = operations.save_draft(mediator, None, region=township, fields=fields)
    operations.submit(mediator, case)
    operations.return_for_revision(reviewers["township"], case, case.version, "请在案例评析中补充法律适用分析。")
    fields = case_fields(SCENARIOS[6], _values(rnd, 2025, "南岭街道人民调解委员会"), rnd)
    fields["commentary"] = ""
    operations.save_draft(mediator, None, region=township, fields=fields)
    db.session.flush()
    ctx["exemplary_cases"] = published
    reindex_all()
