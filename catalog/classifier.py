"""Suggest 2025 catalogue level-3 items for a project description.

Method (no training data is needed; everything is built from the shipped reference data once per process):

1. Each level-3 item becomes a weighted text document: its Chinese name (strongest), a short curated keyword
   text (``KEYWORDS``, data below), its level-2 and level-1 names and keywords, the names of its GB/T 4754
   activity industries, and its English name (weak; for English queries).
2. Text is cut into character 1-3-grams inside runs of Chinese characters plus lower-cased Latin/digit words
   (``PUE``, ``CCUS``, ``VOCs``). Term weights are BM25-saturated frequencies times IDF over the 271 items.
   The query is L2-normalised; documents get a pivoted length normalisation (an item with a long activity
   list is not drowned by short ones). The text score mixes this full-document match with a match against
   the level-3 name alone (``NAME_CHANNEL``), plus ``PHRASE_BONUS`` when an item's whole name occurs verbatim.
3. The project's industry code is linked to the items' activity codes: an item with the same class, the same
   group or the same division gets a boost, scaled by how specific that code is (a code shared by many
   items, such as 4861 节能工程施工, boosts little). Per the catalogue's note 3, activity codes do not
   classify a firm, so this is a bounded tie-breaker, never a filter. The industry's name also joins the
   query text at a low weight.
4. Confidence: a softmax over all items plus a "none of these" pseudo-item whose score is
   ``NULL_SCORE``: texts that match nothing get low confidence instead of a uniform share of certainty.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from functools import cache

import numpy as np
from scipy import sparse

from greenmatch.catalog import reference
from greenmatch.codes import normalize_industry_code

# ------------------------------------------------------------------------------------------------------------
# Tunables. Weights were set by reasoning about the score scales and checked by "self-retrieval" (each item's
# own name must rank it first: 271/271); bench/classify.py reports accuracy and calibration for them.
# ------------------------------------------------------------------------------------------------------------

FIELD_WEIGHTS = {
    "name": 3.0,  # the level-3 item's Chinese name
    "keywords": 2.0,  # curated keywords of the level-3 item
    "l2": 1.0,  # level-2 name and keywords
    "l1": 0.5,  # level-1 name and keywords
    "activities": 0.6,  # GB/T 4754 names of the item's activity rows
    "name_en": 0.4,
}
NGRAM_WEIGHTS = {1: 0.25, 2: 1.0, 3: 1.0}  # Chinese character n-gram sizes
WORD_WEIGHT = 1.0  # Latin/digit words
BM25_K = 1.2
PIVOT_SLOPE = 0.5  # document length normalisation: 1.0 = plain cosine, lower = less penalty for long documents
# Share of the text score that comes from matching the level-3 name alone (an exact or near-exact name must win
# even against items whose short documents concentrate weight on generic words such as 设施建设和运营).
NAME_CHANNEL = 0.35
# Added when the item's whole Chinese name occurs verbatim in the name or description (people paste catalogue
# names; 2019 names often equal 2025 ones). Decides "X装备制造" vs "X装备贸易", whose n-grams barely differ.
PHRASE_BONUS = 0.15
# Texts longer than this (per field) are cut: keeps a call bounded in time whatever is pasted in.
MAX_FIELD_CHARS = 4000
QUERY_WEIGHTS = {"name": 2.0, "description": 1.0, "industry": 0.5}
# Industry-code link: weight per match depth, then scaled by the code's specificity.
INDUSTRY_MATCH_WEIGHTS = {4: 1.0, 3: 0.6, 2: 0.3}
INDUSTRY_BOOST = 0.12
# Confidence: softmax temperature over combined scores and the score of the "none of these" pseudo-item.
# TEMPERATURE minimises the log-loss of the true label on the "dev" split of bench/data/classify_eval.json (the
# "holdout" split checks it). The log-loss is flat for NULL_SCORE in [0, 0.1]; the top of that range is taken so
# that uninformative text ("项目", a company profile) does not get confident suggestions.
TEMPERATURE = 0.03
NULL_SCORE = 0.10

# ------------------------------------------------------------------------------------------------------------
# Curated keyword text (data, not rules): common synonyms, trade terms and abbreviations used in filings for
# an item (dotted level-3 code) or a whole level-2 group. Written from general domain knowledge.
# ------------------------------------------------------------------------------------------------------------

KEYWORDS: dict[str, str] = {
    # level 2: what kind of activity the group is
    "1.1": "节能装备 生产线 制造 产能 年产 台套 生产基地 能效等级 一级能效",
    "1.2": "整车 零部件 制造 生产线 产能 年产 总装",
    "1.3": "节能改造 能效提升 节能量 节约标煤 节电 技改 改造",
    "1.4": "钢铁 水泥 电解铝 有色金属 石化 化工 焦化 玻璃 建材 造纸 重点行业 降碳 转型 吨钢 单位产品能耗 能效标杆",
    "1.5": "温室气体 二氧化碳 减排 碳排放 含氟气体",
    "2.1": "环保装备 环保设备 制造 生产线 年产 台套",
    "2.2": "废气 烟气 大气污染 排放浓度 达标排放",
    "2.3": "废水 污水 水体 水环境 cod 氨氮 总磷 水质",
    "2.4": "土壤 污染地块 场地 修复 重金属",
    "2.5": "污染治理 固废 整治",
    "3.1": "装备 设备 制造 生产线 成套设备 年产",
    "3.2": "资源化 综合利用 回收 再生 循环利用 利用率",
    "4.1": "装备 设备 制造 生产线 生产基地 产能 年产 零部件 整机",
    "4.2": "电站 电场 装机 装机容量 兆瓦 mw 千瓦时 发电量 上网电量 并网 升压站 建设运营",
    "4.3": "电网 电力系统 调峰 调频 辅助服务 调度 灵活性 消纳",
    "5.1": "种植 养殖 基地 农业 林业 渔业 亩",
    "5.2": "生态 保护 修复 恢复 治理 植被 生态系统",
    "5.3": "国土 整治 复垦 土地",
    "6.1": "建筑 建筑面积 平方米 住宅 公共建筑 楼",
    "6.2": "交通 运输 车辆 线路 客运 货运",
    "6.3": "物流 仓储 冷链 仓库 配送",
    "6.4": "市政 城镇 环境基础设施 管网 处理厂",
    "6.5": "供热 供能 配电网 城镇能源 管网 供暖",
    "6.6": "数据中心 机房 通信 机柜 基站 5g pue",
    "7.1": "咨询 设计 勘察 监理 可行性研究 服务",
    "7.2": "运营管理 托管 服务 第三方 管理服务",
    "7.3": "监测 在线监测 监测系统 检测 数据采集 运维",
    "7.4": "评估 审查 核查 审核 诊断 测评 服务",
    "7.5": "研发 认证 推广 技术交易",
    "7.6": "交易 权益 市场 碳资产 配额 指标",
    "8.1": "贸易 批发 零售 出口 进口 进出口 经销 销售 代理 外贸",
    "8.2": "贸易 批发 零售 出口 进口 进出口 经销 销售 代理 外贸",
    "8.3": "贸易 批发 零售 出口 进口 进出口 经销 销售 代理 外贸",
    "8.4": "贸易 批发 零售 出口 进口 进出口 经销 销售 代理 外贸",
    "8.5": "贸易 批发 零售 出口 进口 进出口 经销 销售 代理 外贸",
    "8.6": "贸易 批发 零售 出口 进口 经销 销售 农产品",
    "8.7": "贸易 批发 零售 经销 销售 认证产品",
    "9.1": "消费 消费者 个人 居民 购置 购买 按揭 分期 消费贷款 家庭",
    # level 3
    "1.1.1": "锅炉 燃气锅炉 冷凝锅炉 蒸汽锅炉 热水锅炉 循环流化床锅炉 低氮",
    "1.1.2": "工业窑炉 电炉 熔炉 烘炉 感应炉",
    "1.1.3": "内燃机 发动机 柴油机 燃气发动机",
    "1.1.4": "发电机 发电机组",
    "1.1.5": "水泵 离心泵 真空泵 节能泵",
    "1.1.6": "空压机 空气压缩机 压缩机 螺杆机",
    "1.1.7": "电动机 电机 永磁电机 永磁同步 高效电机 ie3 ie4 ie5 微特电机",
    "1.1.8": "风机 鼓风机 引风机 风扇",
    "1.1.9": "变压器 非晶合金变压器 整流器 电焊机 电感器",
    "1.1.10": "磁悬浮 磁悬浮鼓风机 磁悬浮离心机 磁悬浮轴承",
    "1.1.11": "农机 拖拉机 收获机 农业机械 植保无人机 渔船",
    "1.1.12": "矿山机械 破碎机 建材机械 球磨机",
    "1.1.13": "商用冷柜 服务器 投影 复印 商用空调 冷水机组 多联机",
    "1.1.14": "家电 空调 冰箱 洗衣机 热水器 变频 一级能效 家用电器",
    "1.1.15": "led 照明 灯具 半导体照明 光源 路灯",
    "1.1.16": "灶具 炉具 燃气灶 清洁炉具 采暖炉",
    "1.1.17": "余热锅炉 余热利用设备 有机朗肯循环 orc 换热器 热管 透平",
    "1.1.18": "绿色建材 加气混凝土 砌块 保温材料 节能门窗 low-e 预制构件 墙板 防水材料 岩棉",
    "1.1.19": "能源计量 智能电表 计量器具 能耗监测设备 仪器仪表 流量计 传感器",
    "1.2.1": "新能源汽车 电动汽车 纯电动 插电混动 动力电池 电驱动 电机控制器 驱动电机 燃料电池汽车 正极材料 "
    "负极材料 电解液 隔膜",
    "1.2.2": "船舶 船舶建造 lng动力船 电动船舶 纯电动船 甲醇动力 集装箱船 散货船 造船",
    "1.2.3": "轨道交通装备 地铁车辆 动车组 机车 转向架 车体 牵引系统",
    "1.2.4": "飞机 航空器 电动飞机 无人机 航空发动机",
    "1.2.5": "岸桥 场桥 门机 起重机 自动化码头设备 装卸设备",
    "1.3.1": "锅炉改造 窑炉改造 燃烧优化 锅炉效率 热效率 冷凝水回收 蓄热式燃烧 锅炉节能",
    "1.3.2": "电机系统 变频 变频调速 电机更换 高效电机 水泵 风机 空压机 节电",
    "1.3.3": "电网节能 线损 降损 变压器更换 无功补偿 配电网改造",
    "1.3.4": "余热 余压 余热发电 余热回收 余热锅炉 trt 干熄焦 低温余热 余热利用",
    "1.3.5": "照明改造 led 路灯 灯具更换 道路照明 智能照明",
    "1.3.6": "船舶改造 船舶改装 lng动力改造 电动化改造 船舶受电 主机更换",
    "1.4.1": "能效标杆 能效提升 节能降碳 电解槽 高炉 转炉 吨钢能耗 吨铝电耗 单位产品能耗 设备更新",
    "1.4.2": "工艺改进 流程优化 短流程 电炉炼钢 氢冶金 氢基竖炉 直接还原 原料替代 燃料替代 电能替代 全氧燃烧",
    "1.4.3": "数字化 智能化 智能工厂 智能制造 工业互联网 dcs 数字孪生 智能控制 预测性维护 能源管控中心",
    "1.5.1": "ccus ccs 碳捕集 二氧化碳捕集 驱油 封存 地质封存 co2 捕集 利用与封存",
    "1.5.2": "消耗臭氧层物质 替代品 制冷剂 hfc hcfc 含氟 发泡剂 低gwp",
    "2.1.1": "除尘器 脱硫设备 脱硝设备 除尘设备 废气处理设备 vocs治理设备 油烟净化器 空气净化器",
    "2.1.2": "污水处理设备 膜组件 mbr 超滤膜 反渗透 水处理设备 一体化污水处理设备",
    "2.1.3": "土壤修复设备 热脱附设备 淋洗设备",
    "2.1.4": "垃圾处理设备 焚烧炉 垃圾车 压缩设备 固废处理设备",
    "2.1.5": "隔声 降噪 减振 隔声屏障 消声器 隔音门窗",
    "2.1.6": "放射性 辐射防护 核废物",
    "2.1.7": "药剂 絮凝剂 催化剂 脱硝催化剂 滤料 吸附剂 活性炭 膜材料",
    "2.1.8": "无毒无害 替代 低voc 水性涂料 无汞 无铅 原料替代 生物基",
    "2.1.9": "农药 生物农药 低毒农药 微生物农药",
    "2.1.10": "环境监测仪器 监测设备 在线监测仪 应急处理设备 分析仪",
    "2.1.11": "持久性有机污染物 汞 公约 pops",
    "2.1.12": "低排放装备 无污染排放",
    "2.2.1": "脱硫 脱硝 除尘 烟气治理 scr sncr 湿法脱硫 布袋除尘 烟气脱硫脱硝",
    "2.2.2": "超低排放 钢铁超低排放 有组织排放 无组织排放 清洁运输 燃煤电厂超低排放 焦化 烧结",
    "2.2.3": "vocs 挥发性有机物 rto rco 活性炭吸附 催化燃烧 喷涂 涂装 印刷 有机废气 泄漏检测 ldar",
    "2.2.4": "无组织排放 料场封闭 抑尘 密闭输送 粉尘",
    "2.2.5": "扬尘 道路扬尘 施工扬尘 喷雾抑尘 裸土覆盖",
    "2.2.6": "油烟 餐饮油烟 油烟净化",
    "2.2.7": "氨排放 畜禽养殖氨 氮肥",
    "2.3.1": "饮用水水源地 地下水 水源保护 良好水体",
    "2.3.2": "流域 海域 湖泊 长江 黄河 入海 水环境综合治理 河湖 流域治理",
    "2.3.3": "黑臭水体 黑臭河道 截污 清淤 控源截污 生态补水",
    "2.3.4": "工业废水 废水治理 废水处理站 印染废水 电镀废水 造纸废水 焦化废水 深度处理 提标 零排放",
    "2.3.5": "工业园区 园区污水 集中处理 工业集聚区 园区管网 化工园区",
    "2.4.1": "耕地 农田 农用地 稻田 镉 安全利用 重金属污染耕地 种植结构调整",
    "2.4.2": "污染地块 场地修复 退役场地 遗留场地 建设用地 化工厂旧址 热脱附 风险管控",
    "2.4.3": "面源污染 化肥减量 农药减量 农田退水 秸秆还田",
    "2.4.4": "沙漠 荒漠 沙漠污染",
    "2.5.1": "一般工业固体废物 填埋场 贮存场 无害化处置 尾矿库 赤泥 飞灰",
    "2.5.2": "危险废物 危废 焚烧 安全填埋 医疗废物 废矿物油 废酸 危废处置",
    "2.5.3": "噪声 振动 隔声屏障 降噪",
    "2.5.4": "恶臭 异味 臭气 除臭",
    "2.5.5": "新污染物 抗生素 全氟化合物 环境激素 微塑料",
    "2.5.6": "清洁生产 清洁生产改造 源头减量 无氰电镀 节水减排 有毒有害原料替代 重金属减排",
    "2.5.7": "园区污染治理 集中治理设施 园区 集中喷涂中心 集中处理",
    "2.5.8": "机动车 柴油车 尾气 黑烟车 非道路移动机械 车船 尾气治理",
    "2.5.9": "船舶污染物 港口 含油污水 船舶垃圾 接收 洗舱 船舶污染 码头",
    "2.5.10": "畜禽粪污 粪污 养殖场 沼气 有机肥 水产养殖尾水 养殖废弃物 生猪 奶牛",
    "2.5.11": "农村 人居环境 农村生活污水 厕所 户厕 改厕 村容村貌 行政村 乡村 农村垃圾",
    "3.1.1": "选矿设备 尾矿处理设备 冶金设备",
    "3.1.2": "节水设备 滴灌设备 喷灌设备 水处理 海水淡化设备 再生水设备",
    "3.1.3": "固废综合利用设备 尾矿利用设备 煤矸石利用设备 粉煤灰利用设备",
    "3.1.4": "秸秆处理设备 打捆机 秸秆粉碎 生物质成型设备 畜禽粪污处理设备",
    "3.1.5": "拆解设备 再制造设备 破碎分选 废旧家电拆解 报废汽车拆解 电池拆解 回收装备",
    "3.1.6": "垃圾分选设备 焚烧设备 建筑垃圾破碎 餐厨垃圾处理设备",
    "3.1.7": "尾气回收设备 煤气回收 气体回收装置",
    "3.2.1": "尾矿 共伴生矿 低品位矿 综合回收 选矿 矿产资源 废石 伴生",
    "3.2.2": "节水 节水灌溉 滴灌 喷灌 水肥一体化 再生水 中水回用 海水淡化 循环水 污水资源化 灌区 非常规水源",
    "3.2.3": "粉煤灰 煤矸石 钢渣 冶炼渣 赤泥 脱硫石膏 磷石膏 尾矿 工业副产石膏 固废综合利用 大宗固废",
    "3.2.4": "秸秆 农林废弃物 林业剩余物 畜禽粪污 稻壳 果壳 木屑 秸秆饲料 秸秆收储 生物质颗粒 沼气",
    "3.2.5": "废旧 回收 再生资源 废钢 废有色金属 废塑料 废纸 废旧电池 动力电池回收 梯次利用 再制造 废旧家电 "
    "报废汽车 拆解 废旧纺织品 再生 废铝 废铜",
    "3.2.6": "垃圾 生活垃圾 餐厨垃圾 厨余垃圾 建筑垃圾 装修垃圾 焚烧发电 垃圾发电 再生骨料 填埋气 资源化",
    "3.2.7": "焦炉煤气 高炉煤气 转炉煤气 尾气 工业尾气 二氧化碳回收 回收利用 煤气 驰放气 尾气制乙醇",
    "3.2.8": "园区循环化 循环化改造 产业链接 能源梯级利用 公共管廊 园区 循环经济 基础设施共享",
    "3.2.9": "木材 锯材 人造板 木材加工 废旧木材",
    "4.1.1": "风电装备 风电机组 风机 叶片 塔筒 齿轮箱 主轴承 变流器 风电整机 海上风电装备",
    "4.1.2": "太阳能发电 太阳能电池 光伏 组件 电池片 硅片 多晶硅 逆变器 光伏玻璃 光热 集热器 太阳能热水器 "
    "topcon hjt 异质结 钙钛矿",
    "4.1.3": "生物质锅炉 秸秆打捆 生物质气化炉 厌氧发酵罐 成型机",
    "4.1.4": "水轮机 水轮发电机组 水泵水轮机 抽水蓄能机组",
    "4.1.5": "核电装备 反应堆 压力容器 蒸汽发生器 核级泵阀 核燃料",
    "4.1.6": "地热设备 地源热泵机组 热泵机组 地热发电机组",
    "4.1.7": "潮流能 波浪能 潮汐能 海洋能装备",
    "4.1.8": "储能 储能电池 储能系统 电芯 储能变流器 pcs 液流电池 钠离子电池 飞轮 压缩空气储能设备 bms 电池管理",
    "4.1.9": "氢能装备 电解槽 制氢设备 燃料电池 电堆 储氢瓶 储氢罐 加氢机 氢气压缩机 膜电极 双极板 液氢",
    "4.1.10": "智能电网设备 智能变电站设备 开关柜 柔性直流 换流阀 智能电表 电力电子 配电自动化终端",
    "4.2.1": "风电 风电场 风力发电 风电机组 风机 海上风电 陆上风电 分散式风电 风电项目 单机容量 升压站",
    "4.2.2": "光伏 光伏电站 分布式光伏 集中式光伏 屋顶光伏 农光互补 渔光互补 光热 光热电站 光伏发电 组件 "
    "太阳能热利用 光伏项目",
    "4.2.3": "生物质 生物质发电 秸秆发电 农林生物质 热电联产 生物天然气 沼气 生物质锅炉 生物质能 成型燃料 "
    "生物柴油 生物航煤 燃料乙醇",
    "4.2.4": "水电站 水电 水力发电 大坝 水库 引水发电 坝 水轮发电机组 流域梯级",
    "4.2.5": "核电 核电站 核电机组 压水堆 核能供热 核能 高温气冷堆 小型堆",
    "4.2.6": "地热 地热能 地热供暖 地热井 水热型 干热岩 地热发电 中深层地热",
    "4.2.7": "潮汐 潮流能 波浪能 海洋能 温差能",
    "4.2.8": "氢 氢能 制氢 绿氢 电解水 加氢站 输氢管道 储氢 氢气 可再生能源制氢 风光制氢 液氢 绿氨 绿色甲醇",
    "4.2.9": "热泵 空气源热泵 地源热泵 水源热泵 污水源热泵 热泵站 供热供冷",
    "4.3.1": "源网荷储 多能互补 风光水火储 一体化 微电网 综合能源 风光储",
    "4.3.2": "储能电站 新型储能 电化学储能 独立储能 共享储能 锂电池储能 压缩空气储能 液流电池 飞轮储能 调峰 储能 mwh",
    "4.3.3": "抽水蓄能 抽蓄 上水库 下水库 蓄能电站 可逆式",
    "4.3.4": "小水电 增效扩容 小水电站 农村水电 生态流量 绿色小水电 更新改造",
    "4.3.5": "智能电网 输电 特高压 柔性直流 直流输电 换流站 输电线路 配电自动化 变电站 电网 新能源外送",
    "4.3.6": "负荷管理 需求响应 可调节负荷 虚拟电厂 负荷聚合",
    "4.3.7": "分布式能源 冷热电三联供 分布式能源站 天然气分布式 就近消纳 微网",
    "5.1.1": "育种 良种 种业 制种 种子 种苗 育苗 繁育 种畜 鱼苗",
    "5.1.2": "种质资源 种质库 资源保护 基因库 保种",
    "5.1.3": "绿色种植 生态种植 测土配方 有机肥替代 化肥减量 综合种养 高标准农田 绿色生产 节肥 节药",
    "5.1.4": "有机 有机农业 绿色食品 有机认证 地理标志 认证基地",
    "5.1.5": "保护地 大棚 温室 设施农业 保护区",
    "5.1.6": "病虫害 绿色防控 生物防治 统防统治 杀虫灯 性诱剂",
    "5.1.7": "休闲农业 乡村旅游 农家乐 民宿 观光农业 田园综合体",
    "5.1.8": "农业生态 农田生态 生态沟渠 农业生态系统",
    "5.1.9": "造林 人工林 储备林 森林抚育 营林 林场 植树造林 森林培育 改培 林木 碳汇林 速生丰产林",
    "5.1.10": "林木基因 林业种质 林业有害生物",
    "5.1.11": "林下经济 林下种植 林下养殖 林药 林菌 林禽 林下",
    "5.1.12": "森林康养 森林旅游 森林公园 游憩 康养基地 自然教育 生态旅游",
    "5.1.13": "竹 毛竹 竹材 竹制品 竹林 竹笋 竹纤维 竹木",
    "5.1.14": "畜牧 牧场 奶牛 肉牛 养殖场 草牧业 饲草 标准化养殖 生态养殖",
    "5.1.15": "渔业 水产养殖 池塘 生态养殖 养殖尾水 渔船 捕捞",
    "5.1.16": "海洋牧场 人工鱼礁 藻场 增殖 深远海养殖 养殖工船 海上平台",
    "5.2.1": "生物多样性 珍稀 濒危 野生动物 野生植物 栖息地",
    "5.2.2": "自然保护区 国家公园 保护地 自然遗迹 风景名胜区 地质公园",
    "5.2.3": "天然林 公益林 封山育林 天保",
    "5.2.4": "草原 退化草原 草场 补播 围栏封育 禁牧 退牧还草 草畜平衡",
    "5.2.5": "森林防火 草原防火 防灭火 火情监测 防火隔离带",
    "5.2.6": "荒漠化 石漠化 沙漠 防沙治沙 固沙 沙化 治沙 风沙",
    "5.2.7": "水土流失 水土保持 小流域 淤地坝 梯田 坡耕地 侵蚀",
    "5.2.8": "重点区域 生态屏障 三北 防护林 生态廊道",
    "5.2.9": "山水林田湖草沙 一体化保护修复 系统治理",
    "5.2.10": "有害生物 松材线虫 病虫害 外来入侵物种 鼠害 虫害",
    "5.2.11": "防洪 旱涝 河湖治理 蓄滞洪区 堤防 排涝 水旱灾害",
    "5.2.12": "湿地 退耕还湿 湿地公园 湿地恢复 滩涂 湿地植被 水鸟",
    "5.2.13": "红树林 海岸带 海岛 海湾 岸线 滨海湿地 海草床 珊瑚礁 蓝色海湾",
    "5.2.14": "增殖放流 放流 鱼苗投放",
    "5.3.1": "采煤沉陷区 塌陷区 沉陷 采空区 煤矿塌陷",
    "5.3.2": "地下水超采 超采区 地下水压采 水源置换 回补",
    "5.3.3": "土地整治 全域土地综合整治 土地复垦 耕地提质 增减挂钩",
    "5.3.4": "矿山 废弃矿山 露天矿 矿区 采场 边坡 复绿 复垦 矿山修复 绿色矿山",
    "6.1.1": "绿色建筑 星级 二星级 三星级 绿建 绿色建筑标识 健康建筑 leed",
    "6.1.2": "超低能耗 近零能耗 零能耗 零碳建筑 被动式 被动房 低碳建筑",
    "6.1.3": "既有建筑 节能改造 建筑改造 公共建筑 外墙保温 外窗 老旧小区 建筑节能改造 围护结构",
    "6.1.4": "农房 农村住房 农宅 抗震节能农房",
    "6.1.5": "建筑光伏 光伏建筑一体化 bipv 太阳能热水 地源热泵 空气源热泵 建筑可再生能源 光热建筑",
    "6.1.6": "装配式 预制 装配率 钢结构 装配式建筑 模块化建筑",
    "6.1.7": "智能建造 建筑机器人 bim 数字化施工 智慧工地",
    "6.2.1": "公路 高速公路 国省道 公路改扩建 服务区 沥青再生",
    "6.2.2": "交通枢纽 客运站 场站 枢纽 航站楼 火车站改造",
    "6.2.3": "充电桩 充电站 换电站 换电 充电设施 快充 超充 加气站 lng加注 充电网络 v2g",
    "6.2.4": "智能交通 智慧交通 信号控制 交通大脑 车路协同 智慧停车",
    "6.2.5": "共享单车 公共自行车 共享汽车 分时租赁 共享出行",
    "6.2.6": "公交 公交车 城市公交 电动公交 地铁 轨道交通 城市轨道 轻轨 有轨电车 城乡客运 客运 brt 市域铁路 线路 车站",
    "6.2.7": "慢行 绿道 步行道 自行车道 步行 骑行",
    "6.2.8": "铁路 电气化 铁路改造 高铁 铁路建设 牵引变电所 机车",
    "6.2.9": "多式联运 公转铁 公转水 铁路专用线 铁水联运 集装箱联运 大宗物料 专用线",
    "6.2.10": "甩挂 甩挂运输 挂车",
    "6.2.11": "机场 民航 航站楼 桥载设备 apu替代 航空",
    "6.2.12": "港口 码头 航道 岸电 绿色港口 港区 泊位",
    "6.3.1": "物流园区 物流枢纽 物流中心 快递 分拨中心",
    "6.3.2": "冷库 仓储 仓库 冷链 冷藏 立体库 高标准仓库",
    "6.3.3": "粮食 粮库 粮食仓储 储粮 低温储粮",
    "6.3.4": "物流设备 电动叉车 托盘 循环包装 新能源物流车 智能分拣 无人仓",
    "6.4.1": "园林 绿化 公园 城市绿地 景观 养护 口袋公园 行道树",
    "6.4.2": "海绵城市 透水铺装 雨水花园 下沉式绿地 调蓄池 雨水 内涝",
    "6.4.3": "供水管网 漏损 dma 分区计量 水表 管网改造 自来水 二次供水",
    "6.4.4": "水利信息化 智慧水利 水利设施 闸泵站自动化 数字孪生流域",
    "6.4.5": "污水管网 污水收集 雨污分流 管网排查 截污纳管 管网修复",
    "6.4.6": "排污口 入河排污口 入海排污口 溯源整治",
    "6.4.7": "污水处理厂 污水处理 提标 一级a 污泥 污泥处置 污泥干化 污泥焚烧 再生水厂 城镇污水 万吨/日",
    "6.4.8": "生活垃圾 垃圾转运站 垃圾收运 垃圾分类 环卫 收集车 填埋场 垃圾处理厂",
    "6.4.9": "环境监测站 监测网络 空气质量监测 水质自动站 生态环境监测",
    "6.4.10": "预警 生态安全 信息平台 监管平台 遥感",
    "6.5.1": "配电网 智能配电 城市电网 配电自动化 电力设施 城镇电网",
    "6.5.2": "综合能源 集成供能 多能联供 能源站 区域能源 冷热电",
    "6.5.3": "集中供热 供热管网 热网 换热站 长输供热 余热供暖 热电联产供热 燃煤锅炉替代 供热改造",
    "6.5.4": "农村 乡村 煤改电 煤改气 清洁取暖 农村电网 农村能源 户用 散煤",
    "6.6.1": "通信基站 5g基站 通信网络 机房节能 基站节能 通信",
    "6.6.2": "数据中心 算力中心 机柜 液冷 pue 绿色数据中心 智算中心 服务器",
    "6.6.3": "数据中心改造 机房改造 idc pue 数据中心节能",
    "7.1.1": "勘察 地质勘察 工程勘察 勘测",
    "7.1.2": "设计 咨询 可行性研究 可研 设计院 工程咨询 方案设计",
    "7.1.3": "监理 施工监理 工程监理",
    "7.1.4": "咨询服务 规划 培训",
    "7.2.1": "能源管理体系 能源管理中心 iso50001",
    "7.2.2": "合同能源管理 emc 节能服务公司 能源托管 节能效益分享 效益分享",
    "7.2.3": "合同节水 节水服务 节水效益分享 水务托管",
    "7.2.4": "需求侧管理 需求响应 有序用电 负荷 削峰填谷",
    "7.2.5": "第三方服务 资源循环 回收服务 废弃物管理服务",
    "7.2.6": "第三方治理 环境污染第三方治理 托管运营 委托运营 环保管家 污染治理服务",
    "7.2.7": "数字化平台 碳管理平台 能碳管理 双碳平台 数字化管理 碳足迹管理系统",
    "7.3.1": "能耗在线监测 能耗监测 重点用能单位 能源计量 在线监测平台 能耗数据",
    "7.3.2": "温室气体排放源 排放监控 碳排放监测 cems",
    "7.3.3": "环境损害 损害鉴定 损害评估",
    "7.3.4": "污染源监测 在线监测 自动监测 排污单位 cems 排放口 运维 污染源",
    "7.3.5": "企业环境监测 自行监测 厂界监测 环境监测设备",
    "7.3.6": "生态监测 生态环境监测 生态安全预警",
    "7.3.7": "碳汇监测 碳汇计量 碳储量 生态系统碳汇",
    "7.3.8": "碳监测 大气二氧化碳浓度 碳排放监测",
    "7.4.1": "能源审计 节能评估 节能审查 能评",
    "7.4.2": "能效诊断 节能诊断 能效评估 诊断服务",
    "7.4.3": "碳排放核查 碳核查 碳核算 温室气体核查 排放报告 碳足迹 核算 mrv 重点排放单位",
    "7.4.4": "建筑能效测评 建筑碳排放 能效标识",
    "7.4.5": "清洁生产审核 清洁审核",
    "7.4.6": "环境影响评价 环评 环境影响报告",
    "7.4.7": "环境质量评估 环境质量监测",
    "7.4.8": "生态补偿 损害赔偿 资产评估 生态保护补偿",
    "7.4.9": "生态产品 生态系统评估 gep 生态产品价值",
    "7.4.10": "地质灾害 危险性评估 地灾",
    "7.4.11": "水土保持方案 水保 水土保持评估",
    "7.4.12": "绿色工厂 绿色制造 评价 绿色园区 绿色供应链 第三方评价",
    "7.5.1": "研发 技术研发 研发中心 中试 实验室",
    "7.5.2": "认证 认证推广 产品认证 节能认证 低碳认证 环境标志",
    "7.5.3": "技术交易 技术转让 技术市场 专利 成果转化",
    "7.6.1": "碳交易 碳排放权交易 全国碳市场 碳排放权 碳配额 ccer 核证自愿减排 碳资产 碳汇交易 碳市场 碳信用",
    "7.6.2": "用能权 用能指标 能耗指标",
    "7.6.3": "用水权 水权 取水权 水权交易",
    "7.6.4": "排污权 排污指标 排污许可 排污权交易",
    "7.6.5": "林权 林权交易 林权流转",
    "7.6.6": "绿证 绿色电力证书 绿电交易 绿色电力交易 绿电",
    "8.1.1": "节能设备 农机 绿色建材",
    "8.1.2": "节能商用设备 计算机 服务器",
    "8.1.3": "节能家电 家电 空调 冰箱 热水器 灶具 以旧换新 家电零售 家电门店",
    "8.2.1": "新能源汽车 汽车 零部件 动力电池 4s",
    "8.2.2": "船舶 出口船舶",
    "8.2.3": "轨道交通装备 机车车辆",
    "8.2.4": "航空装备 飞机",
    "8.2.5": "港口装卸设备 起重机",
    "8.3.1": "环保设备 污染防治装备 除尘器 污水处理设备",
    "8.3.3": "环境监测仪器 监测设备 分析仪",
    "8.3.4": "环保药剂 药剂 化工产品 水处理剂",
    "8.3.5": "农药 低毒农药",
    "8.3.6": "空气净化器 新风",
    "8.3.7": "油烟净化 商用空气净化",
    "8.3.8": "水资源机械 水泵 节水器具",
    "8.3.9": "隔音门窗 隔热材料 隔声",
    "8.5.1": "风电 风机 风电机组 叶片 风电整机 风电装备",
    "8.5.2": "光伏 组件 逆变器 电池片 太阳能 光伏产品",
    "8.5.3": "生物质设备",
    "8.5.4": "水电设备 水轮机",
    "8.5.5": "核电设备",
    "8.5.6": "地热设备 热泵",
    "8.5.7": "海洋能设备",
    "8.5.8": "储能 储能电池 储能系统 储能产品",
    "8.5.9": "氢能 燃料电池 电解槽",
    "8.5.10": "智能电网 电力设备 电网设备",
    "8.6.1": "农产品 绿色食品 有机食品 蔬菜 水果 农产品批发 生鲜",
    "8.6.2": "农产品零售 生鲜超市 绿色食品零售",
    "8.7.1": "绿色认证产品 认证产品",
    "8.7.2": "绿色认证产品 零售",
    "9.1.1": "新能源汽车 电动汽车 购车 新能源车消费 纯电动 插混 乘用车 汽车消费",
    "9.1.2": "购房 住房 绿色建筑 绿色住宅 按揭 房贷",
    "9.1.3": "绿色产品 节能家电 绿色消费",
}

_EN_STOPWORDS = frozenset(
    ("a", "an", "and", "of", "the", "for", "in", "on", "to", "with", "by", "or", "other", "its", "their", "as", "at")
)
_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+|[a-z][a-z0-9]*(?:[-+][a-z0-9]+)*|\d+[a-z][a-z0-9]*")


@dataclass(frozen=True)
class Suggestion:
    code: str
    name_zh: str
    name_en: str
    confidence: float


def _terms(text: str) -> dict[str, float]:
    """Weighted terms of a text: Chinese character 1-3-grams within each run, Latin words (``pue``, ``co2``).
    Pure numbers are dropped: they carry capacities, not meaning."""
    out: dict[str, float] = {}
    text = _fold(text)
    for match in _RUN.finditer(text):
        run = match.group()
        if run[0].isascii():
            if run not in _EN_STOPWORDS and len(run) > 1:
                out[run] = out.get(run, 0.0) + WORD_WEIGHT
            continue
        for n, weight in NGRAM_WEIGHTS.items():
            for i in range(len(run) - n + 1):
                gram = run[i : i + n]
                out[gram] = out.get(gram, 0.0) + weight
    return out


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "").casefold()


def _phrase_bonus(index: _Index, name: str, description: str) -> np.ndarray:
    text = _fold(name) + "\n" + _fold(description)
    return np.fromiter((PHRASE_BONUS if p in text else 0.0 for p in index.phrases), dtype=np.float64)


def _add(acc: dict[str, float], terms: dict[str, float], weight: float) -> None:
    for term, tf in terms.items():
        acc[term] = acc.get(term, 0.0) + tf * weight


def _saturate(tf: float) -> float:
    return tf * (BM25_K + 1.0) / (tf + BM25_K)


@dataclass(frozen=True)
class _Index:
    items: tuple[reference.Category, ...]
    vocab: dict[str, int]
    idf: np.ndarray  # (V,)
    matrix_t: sparse.csr_matrix  # (V, N): normalised document weights, one row per term
    names_t: sparse.csr_matrix  # (V, N): the same for the level-3 names alone
    phrases: tuple[str, ...]  # NFKC-casefolded level-3 names, for the verbatim-name bonus
    industry_links: dict[int, dict[str, tuple[np.ndarray, float]]]  # depth -> code prefix -> (item idx, spec)


@cache
def _index() -> _Index:
    cats = reference.catalogue()
    items = tuple(c for c in cats.values() if c.level == 3)
    docs: list[dict[str, float]] = []
    for cat in items:
        l2 = cats[cat.parent] if cat.parent else None
        l1 = cats[l2.parent] if l2 and l2.parent else None
        doc: dict[str, float] = {}
        _add(doc, _terms(cat.name_zh), FIELD_WEIGHTS["name"])
        _add(doc, _terms(KEYWORDS.get(cat.code, "")), FIELD_WEIGHTS["keywords"])
        if l2 is not None:
            _add(doc, _terms(l2.name_zh + " " + KEYWORDS.get(l2.code, "")), FIELD_WEIGHTS["l2"])
        if l1 is not None:
            _add(doc, _terms(l1.name_zh + " " + KEYWORDS.get(l1.code, "")), FIELD_WEIGHTS["l1"])
        industry_names = dict.fromkeys(a.industry_name_zh for a in reference.activity_industries(cat.code))
        _add(doc, _terms(" ".join(industry_names)), FIELD_WEIGHTS["activities"])
        _add(doc, _terms(cat.name_en), FIELD_WEIGHTS["name_en"])
        docs.append(doc)

    names = [_terms(cat.name_zh) for cat in items]
    vocab: dict[str, int] = {}
    df: list[int] = []
    for doc in docs:
        for term in doc:
            if term not in vocab:
                vocab[term] = len(vocab)
                df.append(0)
            df[vocab[term]] += 1
    n = len(docs)
    idf = np.log(1.0 + n / np.asarray(df, dtype=np.float64))
    matrix = _weights(docs, vocab, idf)
    names_matrix = _weights(names, vocab, idf)
    phrases = tuple(_fold(cat.name_zh) for cat in items)

    # Industry-code link: for each depth (4 = class, 3 = group, 2 = division) the items whose activity codes
    # share that prefix, with a specificity in (0, 1]: 1 for a prefix unique to one item.
    links: dict[int, dict[str, tuple[np.ndarray, float]]] = {}
    for depth in INDUSTRY_MATCH_WEIGHTS:
        by_prefix: dict[str, set[int]] = {}
        for j, cat in enumerate(items):
            for code in cat.activity_codes:
                if code and len(code) >= depth:
                    by_prefix.setdefault(code[:depth], set()).add(j)
        links[depth] = {
            prefix: (np.fromiter(sorted(members), dtype=np.intp), math.log(n / len(members)) / math.log(n))
            for prefix, members in by_prefix.items()
            if len(members) < n
        }
    return _Index(items, vocab, idf, matrix, names_matrix, phrases, links)


def _weights(docs: list[dict[str, float]], vocab: dict[str, int], idf: np.ndarray) -> sparse.csr_matrix:
    """(V, N) matrix of saturated tf x idf weights. Columns are divided by a pivoted norm
    ``(1 - s) * mean_norm + s * norm`` (Singhal, Buckley & Mitra 1996) rather than their own L2 norm, so items
    with long activity lists are not drowned by short ones; the scale stays that of a cosine."""
    rows: list[int] = []
    cols: list[int] = []
    values: list[float] = []
    for j, doc in enumerate(docs):
        for term, tf in doc.items():
            t = vocab[term]
            rows.append(t)
            cols.append(j)
            values.append(_saturate(tf) * idf[t])
    matrix = sparse.csc_matrix((values, (rows, cols)), shape=(len(vocab), len(docs)), dtype=np.float64)
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=0)).ravel())
    positive = norms > 0
    scale = np.zeros(len(docs))
    if positive.any():
        pivot = (1.0 - PIVOT_SLOPE) * norms[positive].mean() + PIVOT_SLOPE * norms
        scale[positive] = 1.0 / pivot[positive]
    return sparse.csr_matrix(matrix @ sparse.diags(scale))


def _known_industry(industry_code: str | None) -> str | None:
    """The normalised code, cut back to its longest prefix that exists in GB/T 4754 (None if none does)."""
    if not isinstance(industry_code, str):
        return None
    code = normalize_industry_code(industry_code)
    known = reference.industries()
    while code and code not in known:
        code = code[:-1] if len(code) > 2 else None
    return code


def _text_scores(index: _Index, name: str, description: str, industry: str | None) -> np.ndarray:
    query: dict[str, float] = {}
    _add(query, _terms(name), QUERY_WEIGHTS["name"])
    _add(query, _terms(description), QUERY_WEIGHTS["description"])
    if industry is not None:
        _add(query, _terms(reference.industries()[industry].name_zh), QUERY_WEIGHTS["industry"])
    rows: list[int] = []
    weights: list[float] = []
    for term, tf in query.items():
        t = index.vocab.get(term)
        if t is not None:
            rows.append(t)
            weights.append(_saturate(tf) * index.idf[t])
    if not rows:
        return np.zeros(len(index.items))
    w = np.asarray(weights)
    w /= np.linalg.norm(w)
    full = index.matrix_t[rows].T @ w
    name_only = index.names_t[rows].T @ w
    return (1.0 - NAME_CHANNEL) * full + NAME_CHANNEL * name_only


def _industry_boost(index: _Index, industry: str | None) -> np.ndarray:
    boost = np.zeros(len(index.items))
    if industry is None:
        return boost
    for depth, weight in INDUSTRY_MATCH_WEIGHTS.items():
        if len(industry) < depth:
            continue
        link = index.industry_links[depth].get(industry[:depth])
        if link is not None:
            members, specificity = link
            boost[members] = np.maximum(boost[members], weight * specificity)
    return boost


def scores(name: str, description: str = "", industry_code: str | None = None) -> np.ndarray:
    """Combined score of every 2025 level-3 item, in catalogue order (the order of ``level3_items()``)."""
    index = _index()
    industry = _known_industry(industry_code)
    name = name[:MAX_FIELD_CHARS] if isinstance(name, str) else ""
    description = description[:MAX_FIELD_CHARS] if isinstance(description, str) else ""
    return (
        _text_scores(index, name, description, industry)
        + _phrase_bonus(index, name, description)
        + INDUSTRY_BOOST * _industry_boost(index, industry)
    )


def level3_items() -> tuple[reference.Category, ...]:
    return _index().items


def classify(name: str, description: str = "", industry_code: str | None = None, limit: int = 5) -> list[Suggestion]:
    """Up to ``limit`` suggested 2025 level-3 items, best first, with confidences in [0, 1].

    Never raises on odd input: empty or garbage text gives low-confidence suggestions, an unknown or malformed
    industry code is ignored (a well-formed unknown class falls back to its known group or division).
    """
    index = _index()
    limit = int(limit)
    if limit <= 0:
        return []
    combined = scores(name, description, industry_code)
    # softmax over items and the "none of these" pseudo-item
    top = max(float(combined.max()), NULL_SCORE)
    weights = np.exp((combined - top) / TEMPERATURE)
    total = float(weights.sum()) + math.exp((NULL_SCORE - top) / TEMPERATURE)
    order = np.argsort(-combined, kind="stable")[:limit]
    out = []
    for j in order:
        cat = index.items[int(j)]
        confidence = min(1.0, max(0.0, float(weights[j]) / total))
        out.append(Suggestion(cat.code, cat.name_zh, cat.name_en, round(confidence, 4)))
    return out
