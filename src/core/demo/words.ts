/**
 * Word lists for the synthetic game-review corpus, written for this project. Reviews are
 * built from aspects (what the reviewer talks about), predicates with a polarity, verdicts,
 * and noise of the kind real Steam reviews have.
 */
export const ASPECTS = [
  '그래픽', '스토리', '타격감', '최적화', '가격', '서버', '밸런스', '음악', '조작감', '난이도',
  '캐릭터', '콘텐츠', '과금', '업데이트', '운영', '멀티플레이', '로딩', '번역', '퀘스트', '보스전',
];

export const POSITIVE = [
  '정말 좋아요', '최고입니다', '훌륭하네요', '만족스러워요', '괜찮네요', '재미있어요', '미쳤습니다',
  '감동적이에요', '깔끔해요', '완벽합니다', '기대 이상이에요', '나쁘지 않아요', '마음에 들어요', '신선해요',
];

export const NEGATIVE = [
  '별로예요', '최악입니다', '실망스러워요', '구려요', '재미없어요', '형편없어요', '엉망이에요',
  '답이 없네요', '짜증나요', '좋지 않아요', '기대 이하예요', '불편해요', '지루해요', '끔찍합니다',
];

export const INTENSIFIERS = ['진짜', '너무', '완전', '정말', '엄청', '꽤', '생각보다', '솔직히'];

export const VERDICT_POSITIVE = [
  '강력 추천합니다', '시간 가는 줄 몰랐어요', '인생겜 등극', '갓겜 인정', '돈이 아깝지 않아요',
  '친구들한테도 추천했어요', '다음 작품도 기대됩니다', '할인할 때 꼭 사세요',
];

export const VERDICT_NEGATIVE = [
  '비추합니다', '환불했어요', '돈 아까워요', '망겜 확정', '절대 사지 마세요',
  '삭제했습니다', '시간 낭비였어요', '개발사 정신 차려라',
];

export const CONNECTIVES = ['그리고', '또', '게다가', '특히'];
export const CONTRASTS = ['하지만', '그런데', '근데', '그래도', '반면에'];

export const OPENERS = [
  '', '', '', '플레이 타임 50시간 후기.', '세일해서 샀는데', '친구 추천으로 시작했는데', '오랜만에 리뷰 남깁니다.',
  '얼리 액세스 때부터 했습니다.', '엔딩 보고 씁니다.', '',
];

export const EMOJI = ['😀', '👍', '😡', '💩', '🔥', '😭', '🤔', '❤️', '👎', '🎮'];
export const ENGLISH_POSITIVE = ['gg', '10/10', 'masterpiece', 'GOTY', 'must buy'];
export const ENGLISH_NEGATIVE = ['lag', 'pay to win', 'worst', 'refund', 'broken'];
export const LAUGHS = ['ㅋㅋ', 'ㅋㅋㅋㅋ', 'ㅎㅎ', 'ㅠㅠ', 'ㅜㅜ', '!!!', '...', '??'];
